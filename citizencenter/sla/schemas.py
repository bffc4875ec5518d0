import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import CaseStatus, Channel, Priority
from citizencenter.pagination import PageArgsSchema, page_schema
from citizencenter.sla.enums import WEEKDAYS, LedgerEvent, Metric, TargetUnit, TimerStatus
from citizencenter.sla.opening_hours import OpeningInterval, opening_hours
from citizencenter.sla.swedish_holidays import SHORTENED_EVES
from citizencenter.sla.validation import check_timezone

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$",
                       error="Use 1-64 lower-case letters, digits and hyphens.")
PAUSABLE = [CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN,
            CaseStatus.FORWARDED]


class DayHours(fields.List):
    """One day's opening intervals, e.g. ["08:00-12:00", "13:00-17:00"]."""

    def __init__(self, **kwargs):
        super().__init__(checked.Token(validate=validate.Length(max=20)),
                         validate=validate.Length(max=12), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        specs = super()._deserialize(value, attr, data, **kwargs)
        for spec in specs:
            try:
                OpeningInterval.of(spec)
            except ValueError as exc:
                raise ma.ValidationError(f"{spec!r} is not an opening interval: {exc}") from None
        try:
            return [str(interval) for interval in opening_hours(*specs)]
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class DayOrEve(checked.Date):
    """A date, or the name of an eve that is shortened every year."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value in SHORTENED_EVES:
            return value
        return super()._deserialize(value, attr, data, **kwargs)


WeeklyHoursSchema = ma.Schema.from_dict({day: DayHours() for day in WEEKDAYS},
                                        name="WeeklyHours")


class CalendarBodySchema(ma.Schema):
    name = checked.SingleLine(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    service_point = checked.slug(allow_none=True)
    timezone = checked.Token(load_default="Europe/Stockholm", validate=check_timezone)
    swedish_holidays = checked.Flag(load_default=True)
    weekly_hours = fields.Nested(WeeklyHoursSchema, required=True)
    closed_dates = fields.List(checked.Date(), load_default=list,
                               validate=validate.Length(max=1000))
    shortened_days = fields.Dict(
        keys=DayOrEve(), values=DayHours(), load_default=dict,
        validate=validate.Length(max=1000),
        metadata={"description": "Hours that replace a date's, or every year an eve's: "
                                 + ", ".join(SHORTENED_EVES) + "."})


class CalendarCreateSchema(CalendarBodySchema):
    slug = checked.Token(required=True, validate=SLUG)


class CalendarVersionSchema(ma.Schema):
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    created_by = fields.String()


class CalendarSchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    service_point = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "The current version of the hours."})
    timezone = fields.String()
    swedish_holidays = fields.Boolean()
    weekly_hours = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    closed_dates = fields.List(fields.String())
    shortened_days = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    versions = fields.List(fields.Nested(CalendarVersionSchema))

    @ma.pre_dump
    def flatten(self, calendar, **kwargs):
        current = calendar.versions[-1]
        return {"slug": calendar.slug, "name": calendar.name, "channel": calendar.channel,
                "service_point": calendar.service_point.slug if calendar.service_point
                else None, "version": current.version, "timezone": current.timezone,
                "swedish_holidays": current.swedish_holidays,
                "weekly_hours": current.weekly_hours, "closed_dates": current.closed_dates,
                "shortened_days": current.shortened_days, "versions": calendar.versions}


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


class PolicyChangeSchema(PolicyUpdateSchema):
    class Meta:
        json_schema = {"minProperties": 1}  # not_empty below

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.")


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


CalendarPageSchema = page_schema(CalendarSchema, "SlaCalendarPage")
PolicyPageSchema = page_schema(PolicySchema, "SlaPolicyPage")
