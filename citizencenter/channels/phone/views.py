from flask import current_app, request
from flask.views import MethodView

from citizencenter import db, keys
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.channels.phone import service
from citizencenter.channels.phone.schemas import MAX_BATCH, CallEventSchema, IngestResultSchema

blp = Blueprint("phone", __name__, url_prefix="/api/v1/integrations/calls",
                description="Call events from the phone system")

SIGNED = {"parameters": [
    {"in": "header", "name": name, "required": True, "schema": {"type": "string"}}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")]}


def _signed_delivery() -> service.SignedDelivery:
    request.max_content_length = current_app.config["MAX_INGEST_BYTES"]
    return service.SignedDelivery(
        request.mimetype, request.get_data(cache=True), request.headers.get("webhook-id"),
        request.headers.get("webhook-timestamp"), request.headers.get("webhook-signature"))


def _secret_keys():
    return keys.secret_keys(current_app.config)


def _signed_url() -> str:
    """The URL Twilio signed: the public one when the app sits behind a proxy."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
    return base + request.full_path.rstrip("?")


def _answer(result):
    return result, 202 if result.accepted else 200


@blp.route("/events")
class CallEvents(MethodView):
    @require_scope("calls:write")
    @blp.doc(**SIGNED, requestBody={"required": True, "content": {"application/json": {
        "schema": {"oneOf": [CallEventSchema,
                             {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                              "items": CallEventSchema}]}}}})
    @blp.response(202, IngestResultSchema)
    @blp.alt_response(200, schema=IngestResultSchema, description="Nothing new: duplicates")
    def post(self):
        """Receive one normalised call event or an array of up to 500"""
        return _answer(service.receive_events(db.session, current_principal(), _secret_keys(),
                                              _signed_delivery()))


@blp.route("/asterisk")
class AsteriskQueueLog(MethodView):
    @require_scope("calls:write")
    @blp.doc(**SIGNED, requestBody={"required": True, "content": {"text/plain": {
        "schema": {"type": "string", "example": "1764248400|1764248400.1|kontaktcenter|"
                   "NONE|ENTERQUEUE||0461234567|1"}}}})
    @blp.response(202, IngestResultSchema)
    @blp.alt_response(200, schema=IngestResultSchema, description="Nothing new: duplicates")
    def post(self):
        """Receive Asterisk queue_log lines"""
        return _answer(service.receive_queue_log(db.session, current_principal(),
                                                 _secret_keys(), _signed_delivery()))


@blp.route("/twilio")
class TwilioCallback(MethodView):
    @blp.doc(security=[], parameters=[
        {"in": "header", "name": "X-Twilio-Signature", "required": True,
         "schema": {"type": "string"}},
        {"in": "query", "name": "queue", "schema": {"type": "string"}}],
        requestBody={"required": True, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "required": ["CallSid"],
                       "properties": {"CallSid": {"type": "string"}},
                       "additionalProperties": {"type": "string"}}}}})
    @blp.response(202, IngestResultSchema)
    @blp.alt_response(200, schema=IngestResultSchema, description="Nothing new: duplicates")
    def post(self):
        """Receive a Twilio Voice status or Enqueue callback (signed by Twilio)"""
        return _answer(service.receive_twilio(
            db.session, current_app.config["TWILIO_AUTH_TOKEN"], _signed_url(),
            request.mimetype, list(request.form.items(multi=True)),
            request.headers.get("X-Twilio-Signature"), request.args.get("queue")))
