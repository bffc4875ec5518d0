import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.channels.phone.models import CallEventType
from citizencenter.contacts.service import normalise_phone

WITHHELD = {"", "anonymous", "unknown", "withheld", "private", "restricted", "unavailable"}
MAX_BATCH = 500


def caller_number(raw: str | None) -> str | None:
    """The caller's number in E.164, None when withheld (ValueError when malformed)."""
    if raw is None or raw.strip().lower() in WITHHELD:
        return None
    return normalise_phone(raw)


class CallerNumber(checked.SingleLine):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return caller_number(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class CallMetricsSchema(ma.Schema):
    wait_s = fields.Float(validate=validate.Range(min=0, max=86400))
    ring_s = fields.Float(validate=validate.Range(min=0, max=86400))
    talk_s = fields.Float(validate=validate.Range(min=0, max=86400))
    hold_s = fields.Float(validate=validate.Range(min=0, max=86400))
    acw_s = fields.Float(validate=validate.Range(min=0, max=86400))
    reason = fields.String(validate=validate.OneOf(["timeout", "empty", "key", "full",
                                                    "error"]))
    target = checked.SingleLine(validate=validate.Length(max=100))
    ended_by = fields.String(validate=validate.OneOf(["agent", "caller"]))


class CallEventSchema(ma.Schema):
    event_id = checked.Token(required=True, validate=validate.Length(min=1, max=200))
    source = checked.Token(required=True, validate=validate.Length(min=1, max=64))
    type = fields.Enum(CallEventType, by_value=True, required=True)
    occurred_at = checked.AwareDateTime(required=True)
    sequence = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    call_id = checked.Token(required=True, validate=validate.Length(min=1, max=200))
    queue = checked.Token(allow_none=True, validate=validate.Length(max=64))
    agent = checked.Token(allow_none=True, validate=validate.Length(max=100))
    caller = CallerNumber(allow_none=True)
    metrics = fields.Nested(CallMetricsSchema, load_default=dict)
    raw = fields.Raw(allow_none=True)


def load_events(payload) -> list[dict]:
    """Validate one event object or an array of up to 500."""
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise ma.ValidationError({"_schema": ["Send at least one event."]})
    if len(items) > MAX_BATCH:
        raise ma.ValidationError({"_schema": [f"At most {MAX_BATCH} events per request."]})
    if not all(isinstance(item, dict) for item in items):
        raise ma.ValidationError({"_schema": ["Each event must be a JSON object."]})
    events = CallEventSchema(many=True).load(items)
    return events


class IngestResultSchema(ma.Schema):
    accepted = fields.Integer(metadata={"description": "New events stored"})
    duplicates = fields.Integer(metadata={"description": "Events already received"})
    rejected = fields.List(fields.Dict(), metadata={"description": "Lines or items refused"})
    replayed = fields.Boolean(metadata={"description": "The webhook-id was seen before"})
