from datetime import date, datetime

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.reports.service_measurement import (
    CHANNELS,
    GROUPS,
    INTERVAL_DAYS,
    period_problem,
)
from citizencenter.reports.telephony import FORMULAS, local_bounds


class Moment(fields.Field):
    """A date (a whole Stockholm day) or a timezone-aware date-time."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Give a date or a date-time.")
        try:
            if len(value) == 10:
                moment = date.fromisoformat(value)
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError("Not an ISO 8601 date or date-time.") from None
        checked.check_year(moment)
        if isinstance(moment, datetime) and moment.tzinfo is None:
            raise ma.ValidationError("A date-time needs a timezone offset.")
        return moment


def as_datetime(moment: date | datetime) -> datetime:
    """A date means the Stockholm midnight that starts it."""
    if isinstance(moment, datetime):
        return moment
    return local_bounds(moment, moment)[0]


class PeriodArgsSchema(ma.Schema):
    """[from, to) of a report, checked once for every report: dates become Stockholm
    midnights, then the period must be non-empty and no longer than its interval allows."""

    MAX_DAYS = INTERVAL_DAYS
    QUARTER_HOURS = True  # a report that reads rollups answers quarter hours exactly

    from_ = Moment(data_key="from", required=True,
                   metadata={"type": "string", "example": "2026-01-01"})
    to = Moment(required=True, metadata={"type": "string", "example": "2027-01-01",
                                         "description": "Exclusive; a date means its start"})

    @ma.post_load
    def to_datetimes(self, data, **kwargs):
        data["from_"], data["to"] = as_datetime(data["from_"]), as_datetime(data["to"])
        problem = period_problem(data["from_"], data["to"], data.get("interval"),
                                 self.MAX_DAYS, self.QUARTER_HOURS)
        if problem:
            raise ma.ValidationError(problem[1], problem[0])
        return data


class TelephonyArgsSchema(PeriodArgsSchema):
    MAX_DAYS = {"hour": 62, "day": 400, None: 400}
    QUARTER_HOURS = False  # computed from the calls themselves

    queue = checked.Token(validate=validate.Length(max=64))
    interval = fields.String(validate=validate.OneOf(["hour", "day"]))
    formula = fields.String(validate=validate.OneOf(sorted(FORMULAS)))
    format = fields.String(validate=validate.OneOf(["json", "csv"]))


class ServiceMeasurementArgsSchema(PeriodArgsSchema):
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    queue = checked.slug()
    department = checked.slug()
    interval = fields.String(validate=validate.OneOf([i for i in INTERVAL_DAYS if i]))
    group_by = fields.String(validate=validate.OneOf(list(GROUPS)), metadata={
        "description": "Add the figures per guide, queue or department (whole period)"})
    format = fields.String(validate=validate.OneOf(["json", "csv"]))
