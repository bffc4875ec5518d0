import marshmallow as ma
from marshmallow import fields, validate

from citizencenter.contacts.service import PROTECTION_KINDS


class ProtectionSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(PROTECTION_KINDS), metadata={
        "description": "sekretessmarkering, skyddad_folkbokforing or fingerade_personuppgifter"})


class ProtectedContactSchema(ma.Schema):
    """A contact's protection; never its name, address or number."""

    id = fields.Integer()
    protection = fields.String(allow_none=True)
    protected_by = fields.String(allow_none=True)
    protected_at = fields.AwareDateTime(allow_none=True)
