"""The business calendar's body and answer: weekly hours, closed dates and shortened days."""

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import Channel
from citizencenter.pagination import page_schema
from citizencenter.sla.calendars.opening_hours import OpeningInterval, opening_hours
from citizencenter.sla.calendars.swedish_holidays import SHORTENED_EVES
from citizencenter.sla.enums import WEEKDAYS
from citizencenter.sla.validation import check_timezone

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$",
                       error="Use 1-64 lower-case letters, digits and hyphens.")

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


CalendarPageSchema = page_schema(CalendarSchema, "SlaCalendarPage")
