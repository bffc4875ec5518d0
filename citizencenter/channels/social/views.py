from datetime import timedelta

from flask import Response, current_app, request
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.channels.social import service
from citizencenter.channels.social.schemas import WebhookResultSchema
from citizencenter.errors import NotFound

blp = Blueprint("social", __name__, url_prefix="/api/v1/integrations/meta",
                description="Messenger and Instagram messages from Meta")

HUB_PARAMETERS = [{"in": "query", "name": name, "required": True, "schema": {"type": "string"}}
                  for name in ("hub.mode", "hub.verify_token", "hub.challenge")]


def _setting(name: str) -> str:
    value = current_app.config[name]
    if not value:
        raise NotFound("Meta is not configured.")
    return value


@blp.route("/webhook")
class MetaWebhook(MethodView):
    @blp.doc(security=[], parameters=HUB_PARAMETERS, responses={
        "200": {"description": "hub.challenge, as text/plain",
                "content": {"text/plain": {"schema": {"type": "string"}}}},
        "403": {"description": "Not our verify token"}})
    def get(self):
        """Answer Meta's subscription handshake"""
        challenge = service.verify_subscription(request.args, _setting("META_VERIFY_TOKEN"))
        return Response(challenge, status=200, mimetype="text/plain")

    @blp.doc(security=[], parameters=[{"in": "header", "name": "X-Hub-Signature-256",
                                       "required": True, "schema": {"type": "string"}}])
    @blp.response(200, WebhookResultSchema)
    def post(self):
        """Receive Messenger and Instagram message events (signed by Meta)"""
        app_secret = _setting("META_APP_SECRET")
        request.max_content_length = current_app.config["MAX_INGEST_BYTES"]
        return service.receive_webhook(
            db.session, request.get_data(cache=True), request.headers.get("X-Hub-Signature-256"),
            request.mimetype, app_secret=app_secret,
            reopen_within=timedelta(days=current_app.config["SOCIAL_REOPEN_DAYS"]),
            acknowledge=current_app.config["SOCIAL_ACKNOWLEDGE"] == "on")
