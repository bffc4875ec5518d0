import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked

OPEN_FRACTION = validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False)


class ErlangCRequestSchema(ma.Schema):
    calls = fields.Float(required=True, validate=validate.Range(min=0, max=1_000_000),
                         metadata={"description": "Calls offered in one interval."})
    interval_s = fields.Integer(strict=True, load_default=1800,
                                validate=validate.Range(min=60, max=86_400))
    aht_s = fields.Float(required=True, validate=validate.Range(min=1, max=86_400),
                         metadata={"description": "Average handling time in seconds."})
    target_service_level = fields.Float(load_default=0.8, validate=OPEN_FRACTION,
                                        metadata={"example": 0.97})
    answer_within_s = fields.Float(load_default=120, validate=validate.Range(min=0, max=3600))
    max_occupancy = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False))
    agents = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000),
                            metadata={"description": "Evaluate this many guides instead."})


class ErlangCSchema(ma.Schema):
    agents = fields.Integer()
    traffic_erlangs = fields.Float()
    wait_probability = fields.Float()
    service_level = fields.Float()
    asa_s = fields.Float(allow_none=True, metadata={"description": "null: never answered"})
    occupancy = fields.Float()
    meets_target = fields.Boolean()


class ForecastArgsSchema(ma.Schema):
    weeks = fields.Integer(load_default=4, validate=validate.Range(min=1, max=26))
    queue = checked.slug()
    aht_s = fields.Float(validate=validate.Range(min=1, max=86_400),
                         metadata={"description": "Give it to get guides needed per hour."})
    target_service_level = fields.Float(load_default=0.8, validate=OPEN_FRACTION)
    answer_within_s = fields.Float(load_default=120, validate=validate.Range(min=0, max=3600))


class ForecastIntervalSchema(ma.Schema):
    weekday = fields.String()
    interval_start = fields.String(metadata={"example": "09:00"})
    calls = fields.Float()
    agents = fields.Integer(allow_none=True)


class ForecastSchema(ma.Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    weeks = fields.Integer()
    queue = fields.String(allow_none=True)
    interval_s = fields.Integer()
    total_calls = fields.Integer()
    intervals = fields.List(fields.Nested(ForecastIntervalSchema))


class CoverageArgsSchema(ma.Schema):
    weeks = fields.Integer(load_default=4, validate=validate.Range(min=1, max=26))
    queue = checked.slug()
    aht_s = fields.Float(load_default=300, validate=validate.Range(min=1, max=86_400),
                         metadata={"description": "Average handling time in seconds."})
    target_service_level = fields.Float(load_default=0.8, validate=OPEN_FRACTION)
    answer_within_s = fields.Float(load_default=120, validate=validate.Range(min=0, max=3600))


class CoverageHourSchema(ma.Schema):
    weekday = fields.String()
    hour = fields.Integer(metadata={"description": "Local hour of day, 0–23."})
    calls = fields.Float(metadata={"description": "Mean calls offered."})
    guides_needed = fields.Integer(allow_none=True,
                                   metadata={"description": "null: beyond any number"})
    guides_available = fields.Float(metadata={"description": "Mean guides staffed "
                                              "(available or busy) in the hour."})
    understaffed = fields.Boolean()


class CoverageSchema(ma.Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    weeks = fields.Integer()
    queue = fields.String(allow_none=True)
    aht_s = fields.Float()
    target_service_level = fields.Float()
    answer_within_s = fields.Float()
    total_calls = fields.Integer()
    hours = fields.List(fields.Nested(CoverageHourSchema))
