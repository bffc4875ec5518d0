import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from citizencenter import db, json_input, keys
from citizencenter.api import Blueprint, UnsupportedMediaType
from citizencenter.auth import current_principal, require_scope
from citizencenter.channels.phone import asterisk, service, twilio
from citizencenter.channels.phone.schemas import (
    MAX_BATCH,
    CallEventSchema,
    IngestResultSchema,
    load_events,
)
from citizencenter.errors import AppError, NotFound, ValidationFailed
from citizencenter.integrations import service as integrations

blp = Blueprint("phone", __name__, url_prefix="/api/v1/integrations/calls",
                description="Call events from the phone system")

SIGNED = {"parameters": [
    {"in": "header", "name": name, "required": True, "schema": {"type": "string"}}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")]}


class InvalidBody(AppError):
    status, title, slug = 400, "Invalid body", "invalid-body"


def _signed_body(mimetype: str):
    """The raw body of a signed integration delivery, checked before anything is parsed."""
    request.max_content_length = current_app.config["MAX_INGEST_BYTES"]
    if request.mimetype != mimetype:
        raise UnsupportedMediaType(f"Send the body as {mimetype}.")
    body = request.get_data(cache=True)
    delivery = integrations.accept_delivery(
        db.session, current_principal(), keys.secret_keys(current_app.config),
        request.headers.get("webhook-id"), request.headers.get("webhook-timestamp"),
        request.headers.get("webhook-signature"), body)
    return delivery, body


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
        delivery, body = _signed_body("application/json")
        try:
            payload = json_input.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidBody("The body is not valid JSON.") from None
        try:
            events = load_events(payload)
        except ma.ValidationError as exc:
            raise ValidationFailed(exc.messages) from None
        return _answer(service.ingest(db.session, events, integration_id=delivery.integration.id,
                                      replayed=delivery.replayed))


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
        delivery, body = _signed_body("text/plain")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidBody("The body is not UTF-8 text.") from None
        events, rejected = asterisk.parse_lines(text)
        if rejected and not events:
            raise ValidationFailed({str(r["line"]): [r["reason"]] for r in rejected}, "body")
        return _answer(service.ingest(db.session, events, integration_id=delivery.integration.id,
                                      rejected=rejected, replayed=delivery.replayed))


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
        auth_token = current_app.config["TWILIO_AUTH_TOKEN"]
        if not auth_token:
            raise NotFound("Twilio is not configured.")
        if request.mimetype != "application/x-www-form-urlencoded":
            raise UnsupportedMediaType("Twilio posts application/x-www-form-urlencoded.")
        base = current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
        url = base + request.full_path.rstrip("?")
        twilio.verify(auth_token, url, list(request.form.items(multi=True)),
                      request.headers.get("X-Twilio-Signature"))
        try:
            event = twilio.to_event(request.form.to_dict(), request.args.get("queue"))
        except ValueError as exc:
            raise ValidationFailed({"_schema": [str(exc)]}, "form") from None
        return _answer(service.ingest(db.session, [event] if event else []))
