import marshmallow as ma
from marshmallow import fields, validate

from citizencenter.cases.schemas import MAX_BODY, ContactInSchema


class WalkInCreateSchema(ma.Schema):
    service_point = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                  metadata={"description": "A slug from /service-points"})
    visited_at = fields.AwareDateTime(required=True, metadata={
        "description": "When the visitor came to the counter; not in the future"})
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    category = fields.String(validate=validate.Length(min=1, max=64))
    description = fields.String(load_default="", validate=validate.Length(max=MAX_BODY))
    resolved_at_first_contact = fields.Boolean(required=True, metadata={
        "description": "Settled at the counter: the case is closed at once"})
    duration_minutes = fields.Integer(validate=validate.Range(min=1, max=480), metadata={
        "description": "How long the visit took (default WALKIN_DEFAULT_MINUTES)"})
    contact = fields.Nested(ContactInSchema)
