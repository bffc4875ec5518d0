import marshmallow as ma
from marshmallow import fields


class ProtectedAccessSchema(ma.Schema):
    id = fields.Integer()
    protected_access = fields.Boolean()
