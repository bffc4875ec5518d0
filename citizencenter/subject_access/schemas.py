import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked

_IN_BODY = "In the body, never in a URL."


class PersonSchema(ma.Schema):
    """One identifier of the person; the service checks that exactly one is given."""

    email = checked.SingleLine(validate=validate.Length(min=3, max=254),
                               metadata={"description": f"An e-mail address. {_IN_BODY}"})
    phone = checked.SingleLine(validate=validate.Length(min=3, max=40),
                               metadata={"description": f"A phone number, national or "
                                                        f"international. {_IN_BODY}"})
    personnummer = checked.SingleLine(
        validate=validate.Length(min=10, max=20),
        metadata={"description": f"10 or 12 digits, with or without -, + or a space. "
                                 f"{_IN_BODY}"})


class ErasureRequestSchema(PersonSchema):
    dry_run = checked.Flag(load_default=False,
                           metadata={"description": "Report what would be erased, erase "
                                                    "nothing."})


class ErasureItemSchema(ma.Schema):
    kind = fields.String(metadata={"description": "contact, case or call"})
    id = fields.String()
    reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={
        "description": "Why it is kept: legal_hold, open_case, retention_rule, "
                       "no_disposal_decision, cases_kept "
                       "(a contact), protected_identity, raised_by_another; "
                       "already_erased among the erased"})
    detail = fields.String(allow_none=True)


class ErasureReportSchema(ma.Schema):
    dry_run = fields.Boolean()
    erased = fields.List(fields.Nested(ErasureItemSchema))
    kept = fields.List(fields.Nested(ErasureItemSchema))
