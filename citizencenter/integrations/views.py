"""Integrations for administrators: list, register, rotate a signing secret."""

from flask import current_app
from flask.views import MethodView

from citizencenter import db, keys
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.integrations import service
from citizencenter.integrations.schemas import (
    CreatedIntegrationSchema,
    IntegrationInSchema,
    IntegrationSchema,
    RotationSchema,
)

SCOPE = "integrations:write"
blp = Blueprint("integrations", __name__, url_prefix="/api/v1/integrations",
                description="Integrations: their scopes, signing secrets and deliveries")


@blp.route("")
class Integrations(MethodView):
    @require_scope(SCOPE)
    @blp.response(200, IntegrationSchema(many=True))
    def get(self):
        """Every integration: scopes, secret rotation, signature failures, last deliveries"""
        return service.list_integrations(db.session, current_principal())

    @require_scope(SCOPE)
    @blp.arguments(IntegrationInSchema)
    @blp.response(201, CreatedIntegrationSchema)
    def post(self, body):
        """Register an integration; its bearer token and signing secret are shown once"""
        integration, token, secret = service.create(
            db.session, current_principal(), body["name"], body["scopes"],
            keys.secret_keys(current_app.config))
        return {"name": integration.name, "token": token, "secret": secret}


@blp.route("/<string:name>/rotate")
class Rotate(MethodView):
    @require_scope(SCOPE)
    @blp.response(200, RotationSchema)
    def post(self, name: str):
        """A new signing secret, shown once; the old one holds for the grace period"""
        return service.rotate_for(db.session, current_principal(), name,
                                  keys.secret_keys(current_app.config),
                                  current_app.config["INTEGRATION_SECRET_GRACE_S"])
