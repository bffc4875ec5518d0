import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as cf
from citizencenter.accounts.models import Role
from citizencenter.accounts.service import INTEGRATION_SCOPES
from citizencenter.pagination import PageArgsSchema, page_schema


class ProtectedAccessSchema(ma.Schema):
    id = fields.Integer()
    protected_access = fields.Boolean()


class UserSchema(ma.Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    department = fields.Function(lambda u: u.department.slug if u.department else None)
    active = fields.Boolean()
    protected_access = fields.Boolean()
    created_at = fields.AwareDateTime()


class UserCreateSchema(ma.Schema):
    email = cf.Email(required=True)
    name = cf.SingleLine(required=True, validate=validate.Length(min=1, max=200), strip=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    department = cf.slug(load_default=None)


class UserUpdateSchema(ma.Schema):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    department = cf.slug(allow_none=True)
    active = cf.Flag()

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Name at least one field to change.")


class PasswordResetSchema(ma.Schema):
    user_id = fields.Integer()
    expires_at = fields.AwareDateTime()


class TokenSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    role = fields.String(allow_none=True)
    scopes = fields.List(fields.String())
    user_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When a request last used it, to within a couple of minutes"})


class TokenCreatedSchema(TokenSchema):
    secret = fields.String(metadata={"description": "Shown once, never again"})


class TokenCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    scopes = fields.List(fields.String(validate=validate.OneOf(sorted(INTEGRATION_SCOPES))),
                         load_default=list, validate=validate.Length(max=20))
    role = fields.String(load_default=None, validate=validate.OneOf([r.value for r in Role]))
    user_email = fields.Email(load_default=None)


class UserQueryArgsSchema(PageArgsSchema):
    q = cf.SingleLine(validate=validate.Length(min=1, max=200), metadata={
        "description": "Text to find in the name or the e-mail address, in any letter case."})
    role = fields.Enum(Role, by_value=True)
    department = cf.Token(validate=validate.Length(max=64),
                          metadata={"description": "A department's slug."})
    active = fields.Boolean(truthy={"true"}, falsy={"false"},
                            metadata={"description": "true or false"})


UserPageSchema = page_schema(UserSchema, "UserPage")
TokenPageSchema = page_schema(TokenSchema, "TokenPage")
