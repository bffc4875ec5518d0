"""Department webhooks for administrators: their last deliveries and a signed test event."""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.routing import webhooks

blp = Blueprint("department_webhooks", __name__, url_prefix="/api/v1/departments",
                description="Department webhooks: deliveries and a test event")


class WebhookDeliverySchema(ma.Schema):
    kind = fields.String(metadata={"description": "case.forwarded or test"})
    at = fields.DateTime()
    status = fields.String(metadata={"description": "delivered, failed (retrying) or pending"})
    delivered_at = fields.DateTime(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)


class DepartmentWebhookSchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    url = fields.String(allow_none=True, metadata={"description": "Without query or user info"})
    deliveries = fields.List(fields.Nested(WebhookDeliverySchema))


class WebhookTestSchema(ma.Schema):
    id = fields.Integer()
    requested_at = fields.DateTime()


@blp.route("/webhooks")
class DepartmentWebhooks(MethodView):
    @require_scope(webhooks.SCOPE)
    @blp.response(200, DepartmentWebhookSchema(many=True))
    def get(self):
        """Each department's webhook address and its last deliveries"""
        return webhooks.webhook_overview(db.session, current_principal())


@blp.route("/<string:slug>/webhook/test")
class DepartmentWebhookTest(MethodView):
    @require_scope(webhooks.SCOPE)
    @blp.response(202, WebhookTestSchema)
    def post(self, slug: str):
        """Send a signed test event to the department's webhook (by a worker, with retries)"""
        return webhooks.request_test(db.session, current_principal(), slug)
