"""One period check for every report's query: the telephony and service-measurement
arguments share it, each with its own limits."""

import marshmallow as ma
import pytest

from citizencenter.reports.schemas import (
    PeriodArgsSchema,
    ServiceMeasurementArgsSchema,
    TelephonyArgsSchema,
)


def _refusal(schema: ma.Schema, **args) -> dict:
    with pytest.raises(ma.ValidationError) as caught:
        schema.load(args)
    return caught.value.messages


@pytest.mark.parametrize("schema", [TelephonyArgsSchema(), ServiceMeasurementArgsSchema()])
def test_both_reports_check_the_period_the_same_way(schema):
    assert isinstance(schema, PeriodArgsSchema)
    assert _refusal(schema, **{"from": "2026-11-02", "to": "2026-11-02"}) == {
        "from": ["from must be before to."]}
    assert _refusal(schema, **{"from": "2026-11-02", "to": "2026-11-01"}) == {
        "from": ["from must be before to."]}
    assert _refusal(schema, **{"from": "2025-01-01", "to": "2026-03-01"}) == {
        "to": ["At most 400 days with interval none."]}
    loaded = schema.load({"from": "2026-11-01", "to": "2026-11-02"})
    assert loaded["from_"].isoformat() == "2026-11-01T00:00:00+01:00"
    assert loaded["to"].isoformat() == "2026-11-02T00:00:00+01:00"


def test_each_report_keeps_its_own_limits():
    telephony, measurement = TelephonyArgsSchema(), ServiceMeasurementArgsSchema()
    two_months = {"from": "2026-01-01", "to": "2026-03-15", "interval": "hour"}
    assert _refusal(telephony, **two_months) == {"to": ["At most 62 days with interval hour."]}
    assert measurement.load(two_months)["interval"] == "hour"
    # Telephony counts calls themselves; the measurement reads 15-minute rollups.
    odd = {"from": "2026-11-02T09:07:00+01:00", "to": "2026-11-02T10:00:00+01:00"}
    assert telephony.load(odd)["from_"].minute == 7
    assert _refusal(measurement, **odd) == {
        "from": ["Must fall on a quarter hour (the rollups' resolution)."]}
