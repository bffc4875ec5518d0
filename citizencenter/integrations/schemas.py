import marshmallow as ma
from marshmallow import fields


class IntegrationDeliverySchema(ma.Schema):
    received_at = fields.DateTime()
    event_type = fields.String(allow_none=True,
                               metadata={"description": "The last event the delivery carried"})


class IntegrationSchema(ma.Schema):
    name = fields.String(attribute="integration.name")
    scopes = fields.List(fields.String())
    created_at = fields.DateTime(attribute="integration.created_at")
    token_last_used_at = fields.DateTime(
        attribute="integration.token.last_used_at", allow_none=True,
        metadata={"description": "When its bearer token was last used (to the minute or so)"})
    token_revoked_at = fields.DateTime(
        attribute="integration.token.revoked_at", allow_none=True,
        metadata={"description": "Set once its bearer token is revoked: its calls are refused"})
    rotated_at = fields.DateTime(attribute="integration.rotated_at", allow_none=True)
    previous_secret_valid_until = fields.DateTime(
        attribute="integration.previous_secret_valid_until", allow_none=True,
        metadata={"description": "Until then the secret before the last rotation is accepted"})
    signature_failures = fields.Integer(attribute="integration.signature_failures")
    last_signature_failure_at = fields.DateTime(
        attribute="integration.last_signature_failure_at", allow_none=True)
    last_signature_failure = fields.String(attribute="integration.last_signature_failure",
                                           allow_none=True)
    last_event_at = fields.DateTime(attribute="integration.last_event_at", allow_none=True)
    deliveries = fields.List(fields.Nested(IntegrationDeliverySchema),
                             metadata={"description": "The last signed deliveries accepted"})


class IntegrationInSchema(ma.Schema):
    name = fields.String(required=True, validate=ma.validate.Length(1, 100))
    scopes = fields.List(fields.String(validate=ma.validate.Length(1, 64)), required=True,
                         validate=ma.validate.Length(1, 20))


class CreatedIntegrationSchema(ma.Schema):
    name = fields.String()
    token = fields.String(metadata={"description": "The bearer token, shown only once"})
    secret = fields.String(metadata={"description": "The signing secret, shown only once"})


class RotationSchema(ma.Schema):
    secret = fields.String(metadata={"description": "The new signing secret, shown only once"})
    previous_valid_until = fields.DateTime(allow_none=True, metadata={
        "description": "The previous secret is refused from then on"})
