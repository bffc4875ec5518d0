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

    from_ = checked.Moment(data_key="from", required=True,
                           metadata={"type": "string", "example": "2026-01-01"})
    to = checked.Moment(required=True, metadata={"type": "string", "example": "2027-01-01",
                                                 "description": "Exclusive; a date means its "
                                                                "start"})

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


# The reports' answers. Every key the services return is declared: a response schema drops
# the keys it does not know. Numbers pass through as they are, so 60 stays 60, not 60.0.

class Number(fields.Number):
    """A number dumped unchanged: an int stays an int, a float a float."""

    num_type = float  # read only when loading, which these schemas never do

    def _format_num(self, value):
        return value


def _ratio(description: str = "") -> Number:
    return Number(allow_none=True, metadata={"description": description} if description else {})


def _moment(description: str = "", **kwargs) -> fields.String:
    metadata = {"format": "date-time", **({"description": description} if description else {})}
    return fields.String(metadata=metadata, **kwargs)


class ServiceLevelFormulaSchema(ma.Schema):
    name = fields.String(validate=validate.OneOf(sorted(FORMULAS)))
    formula = fields.String()


class TelephonyDefinitionsSchema(ma.Schema):
    short_abandon_seconds = Number()
    service_level_thresholds_seconds = fields.List(fields.Integer())
    direct_answer_seconds = Number()
    service_level_formula = fields.Nested(ServiceLevelFormulaSchema)
    direct_answer_rate = fields.String()


class TelephonyFiguresSchema(ma.Schema):
    offered = fields.Integer()
    answered = fields.Integer()
    abandoned = fields.Integer()
    exited = fields.Integer()
    service_level = fields.Dict(keys=fields.String(), values=_ratio(), metadata={
        "description": "Per threshold in seconds; null without a call in the denominator"})
    asa_seconds = _ratio()
    longest_wait_seconds = _ratio()
    abandon_rate = _ratio()
    aht_seconds = _ratio()
    transfer_rate = _ratio()
    direct_answer_rate = _ratio()


class TelephonyIntervalSchema(TelephonyFiguresSchema):
    start = _moment("The local hour or day the figures start")


class TelephonyReportSchema(ma.Schema):
    from_ = _moment(data_key="from", attribute="from")
    to = _moment()
    queue = fields.String(allow_none=True)
    interval = fields.String(allow_none=True, validate=validate.OneOf(["hour", "day"]))
    definitions = fields.Nested(TelephonyDefinitionsSchema)
    totals = fields.Nested(TelephonyFiguresSchema)
    intervals = fields.List(fields.Nested(TelephonyIntervalSchema),
                            metadata={"description": "Only with interval"})


class FigureSchema(ma.Schema):
    """One figure of the service measurement beside its target."""

    value = Number(allow_none=True, metadata={"description": "null without data"})
    unit = fields.String()
    target = Number(allow_none=True)
    comparison = fields.String(validate=validate.OneOf(["<=", ">="]))
    met = fields.Boolean(allow_none=True)
    n = fields.Integer(metadata={"description": "The contacts the figure is computed from"})
    formula = fields.String(metadata={"description": "Service levels: the formula used"})
    comparable = fields.Boolean(metadata={"description": "Courtesy: enough answers"})
    mapping = fields.Dict(keys=fields.String(), values=fields.Integer(),
                          metadata={"description": "KKiK: points per score"})


def _figures(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Nested(FigureSchema),
                       metadata={"description": description})


class ChannelFiguresSchema(ma.Schema):
    """The figures per channel (only the filtered one with a channel filter) and overall."""

    phone = _figures("Figures by name")
    email = _figures("Figures by name")
    social = _figures("Figures by name")
    webform = _figures("Figures by name")
    walk_in = _figures("Figures by name")
    overall = _figures("Figures by name")


class MeasurementIntervalSchema(ChannelFiguresSchema):
    start = _moment("The local quarter hour, hour, day, week or month the figures start")


class MeasurementGroupSchema(ChannelFiguresSchema):
    group = fields.Raw(allow_none=True, metadata={
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "The guide's id, the queue or the department; null: without one"})


class MeasurementFiltersSchema(ma.Schema):
    channel = fields.String()
    queue = fields.String()
    department = fields.String()


class MeasurementServiceLevelSchema(ma.Schema):
    formula = fields.String(validate=validate.OneOf(sorted(FORMULAS)))
    text = fields.String()
    short_abandon_seconds = Number()
    thresholds_seconds = fields.List(fields.Integer())


class MeasurementDefinitionsSchema(ma.Schema):
    """How each figure is computed, in words."""

    period = fields.String()
    filters = fields.String()
    service_level = fields.Nested(MeasurementServiceLevelSchema)
    direct_answer_rate = fields.String()
    asa_seconds = fields.String()
    abandon_rate = fields.String()
    aht_seconds = fields.String()
    transfer_rate = fields.String()
    answered_within = fields.String()
    mean_response_office_hours = fields.String()
    first_contact_resolution = fields.String()
    first_contact_resolution_repeat = fields.String()
    handled_by_guides = fields.String()
    departments = fields.String()
    group_by = fields.String()
    courtesy_skr_index = fields.String()
    courtesy_kkik_percent = fields.String()


class ServiceMeasurementSchema(ChannelFiguresSchema):
    from_ = _moment(data_key="from", attribute="from")
    to = _moment()
    filters = fields.Nested(MeasurementFiltersSchema)
    interval = fields.String(allow_none=True,
                             validate=validate.OneOf([i for i in INTERVAL_DAYS if i]))
    rollups_refreshed_at = _moment(allow_none=True)
    definitions = fields.Nested(MeasurementDefinitionsSchema)
    departments = fields.Dict(keys=fields.String(), values=_figures("Figures by name"),
                              metadata={"description": "Forwarded inquiries per department"})
    intervals = fields.List(fields.Nested(MeasurementIntervalSchema),
                            metadata={"description": "Only with interval"})
    group_by = fields.String(validate=validate.OneOf(list(GROUPS)))
    groups = fields.List(fields.Nested(MeasurementGroupSchema),
                         metadata={"description": "Only with group_by"})
