import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.schemas import MAX_BODY, ContactInSchema


class WalkInCreateSchema(ma.Schema):
    service_point = checked.slug(required=True,
                                 metadata={"description": "A slug from /service-points"})
    visited_at = checked.PastMoment(required=True, metadata={
        "description": "When the visitor came to the counter; not in the future"})
    subject = checked.SingleLine(required=True, validate=validate.Length(min=1, max=300))
    category = checked.slug()
    description = checked.Text(load_default="", validate=validate.Length(max=MAX_BODY))
    resolved_at_first_contact = checked.Flag(required=True, metadata={
        "description": "Settled at the counter: the case is closed at once"})
    duration_minutes = fields.Integer(validate=validate.Range(min=1, max=480), metadata={
        "description": "How long the visit took (default WALKIN_DEFAULT_MINUTES)"})
    contact = fields.Nested(ContactInSchema)
