"""SLA policies, the timers of a case and their ledger entries."""

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import CaseStatus, Channel, Priority
from citizencenter.pagination import PageArgsSchema, page_schema
from citizencenter.sla.calendars.schemas import SLUG
from citizencenter.sla.enums import LedgerEvent, Metric, TargetUnit, TimerStatus

PAUSABLE = [CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN,
            CaseStatus.FORWARDED]


class PolicyUpdateSchema(ma.Schema):
    name = checked.SingleLine(validate=validate.Length(min=1, max=200))
    metric = fields.Enum(Metric, by_value=True)
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    priority = fields.Enum(Priority, by_value=True, allow_none=True)
    category = checked.slug(allow_none=True)
    department = checked.slug(allow_none=True)
    calendar = checked.slug(allow_none=True,
                            metadata={"description": "A calendar slug; null counts 24/7."})
    target_value = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000))
    target_unit = fields.Enum(TargetUnit, by_value=True)
    pause_statuses = fields.List(fields.Enum(CaseStatus, by_value=True,
                                             validate=validate.OneOf(PAUSABLE)))
    warn_at_percent = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    active = checked.Flag()

    @ma.post_load
    def statuses_as_values(self, data, **kwargs):
        if "pause_statuses" in data:
            data["pause_statuses"] = sorted({s.value for s in data["pause_statuses"]})
        return data


class PolicyChangeSchema(PolicyUpdateSchema, checked.ChangeSchema):
    """A policy change: at least one field."""


class PolicyCreateSchema(PolicyUpdateSchema):
    slug = checked.Token(required=True, validate=SLUG)
    name = checked.SingleLine(required=True, validate=validate.Length(min=1, max=200))
    metric = fields.Enum(Metric, by_value=True, required=True)
    target_value = fields.Integer(strict=True, required=True,
                                  validate=validate.Range(min=1, max=100_000))
    target_unit = fields.Enum(TargetUnit, by_value=True, required=True)
    pause_statuses = fields.List(fields.Enum(CaseStatus, by_value=True,
                                             validate=validate.OneOf(PAUSABLE)),
                                 load_default=list)
    warn_at_percent = fields.Integer(strict=True, load_default=80,
                                     validate=validate.Range(min=1, max=100))


def _slug(attr):
    return fields.Function(lambda obj: getattr(getattr(obj, attr), "slug", None),
                           metadata={"type": "string", "nullable": True})


class PolicySchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    metric = fields.Enum(Metric, by_value=True)
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    priority = fields.Enum(Priority, by_value=True, allow_none=True)
    category = _slug("category")
    department = _slug("department")
    calendar = _slug("calendar")
    target_value = fields.Integer()
    target_unit = fields.Enum(TargetUnit, by_value=True)
    pause_statuses = fields.List(fields.String())
    warn_at_percent = fields.Integer()
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class PolicyQueryArgsSchema(PageArgsSchema):
    metric = fields.Enum(Metric, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    active = fields.Boolean()


class TimerSchema(ma.Schema):
    id = fields.Integer()
    metric = fields.Enum(Metric, by_value=True)
    policy = fields.Function(lambda t: t.policy.slug, metadata={"type": "string"})
    calendar = fields.Function(
        lambda t: t.calendar_version.calendar.slug if t.calendar_version else None,
        metadata={"type": "string", "nullable": True, "description": "null: 24/7"})
    calendar_version = fields.Function(
        lambda t: t.calendar_version.version if t.calendar_version else None,
        metadata={"type": "integer", "nullable": True})
    target_value = fields.Integer()
    target_unit = fields.Enum(TargetUnit, by_value=True)
    target_s = fields.Integer(metadata={"description": "Open time the target allows."})
    warn_at_percent = fields.Integer()
    pause_statuses = fields.List(fields.String())
    status = fields.Enum(TimerStatus, by_value=True)
    started_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    warn_at = fields.AwareDateTime()
    paused_s = fields.Integer(metadata={"description": "Open time spent paused."})
    paused_since = fields.AwareDateTime(allow_none=True)
    warned_at = fields.AwareDateTime(allow_none=True)
    breached_at = fields.AwareDateTime(allow_none=True)
    fulfilled_at = fields.AwareDateTime(allow_none=True)
    stopped_at = fields.AwareDateTime(allow_none=True)


class LedgerEntrySchema(ma.Schema):
    id = fields.Integer()
    timer_id = fields.Integer()
    event = fields.Enum(LedgerEvent, by_value=True)
    occurred_at = fields.AwareDateTime()
    recorded_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime(allow_none=True)
    details = fields.Dict()


class CaseSlaSchema(ma.Schema):
    case_id = fields.UUID()
    reference = fields.String()
    priority = fields.Enum(Priority, by_value=True)
    timers = fields.List(fields.Nested(TimerSchema))
    ledger = fields.List(fields.Nested(LedgerEntrySchema))


PolicyPageSchema = page_schema(PolicySchema, "SlaPolicyPage")


class AtRiskArgsSchema(ma.Schema):
    state = fields.String(validate=validate.OneOf(["breached", "warning"]),
                          metadata={"description": "Only breached, or only warned timers."})
    channel = fields.Enum(Channel, by_value=True)
    queue = checked.slug(metadata={"description": "A queue's slug."})


class AtRiskItemSchema(ma.Schema):
    case_id = fields.UUID()
    reference = fields.String()
    subject = fields.String(allow_none=True)
    channel = fields.Enum(Channel, by_value=True)
    case_status = fields.Enum(CaseStatus, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    queue = fields.String(allow_none=True)
    queue_name = fields.String(allow_none=True)
    state = fields.String(validate=validate.OneOf(["breached", "warning"]))
    timer = fields.Nested(TimerSchema)
    ledger = fields.List(fields.Nested(LedgerEntrySchema),
                         metadata={"description": "The timer's ledger, oldest first."})


class AtRiskSchema(ma.Schema):
    items = fields.List(fields.Nested(AtRiskItemSchema))
    truncated = fields.Boolean(metadata={"description": "More cases than the list holds."})
