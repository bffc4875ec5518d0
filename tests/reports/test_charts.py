"""The charts' figures (calls per weekday and hour, response-time distribution), the report
periods and the per-guide and per-queue rows, against the generated half-year."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from citizencenter.errors import InvalidInput
from citizencenter.reports import charts, periods, team
from citizencenter.reports.models import RollupState
from citizencenter.reports.service import report_settings, service_measurement
from citizencenter.reports.telephony import local_bounds
from tests.reports.dataset import END, START
from tests.reports.expected import STOCKHOLM, S, office_seconds


@pytest.fixture
def bounds():
    return local_bounds(START, END)


def _place(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(STOCKHOLM)
    return local.weekday(), local.hour


def test_calls_per_weekday_and_hour_count_as_the_report(session, generated, bounds):
    figures = charts.calls_by_weekday_hour(session, *bounds)
    offered, answered = Counter(), Counter()
    inside = [c for c in generated["calls"] if bounds[0] <= c["entered_at"] < bounds[1]]
    for call in inside:
        if not (call["outcome"] == "abandoned" and call["wait_s"] <= S):
            offered[_place(call["entered_at"])] += 1
        if call["outcome"] == "answered":
            answered[_place(call["entered_at"])] += 1
    assert {(d, h): n for d in range(7) for h in range(24)
            if (n := figures["offered"][d][h])} == dict(offered)
    assert {(d, h): n for d in range(7) for h in range(24)
            if (n := figures["answered"][d][h])} == dict(answered)
    report = service_measurement(session, *bounds, report_settings(_config()))
    assert figures["total_offered"] == report["phone"]["calls_offered"]["value"]
    by_queue = charts.calls_by_weekday_hour(session, *bounds, queue="bygglov")
    assert by_queue["total_offered"] == sum(
        1 for c in inside if c["queue"] == "bygglov"
        and not (c["outcome"] == "abandoned" and c["wait_s"] <= S))


def _config():
    from flask import current_app
    return current_app.config


def _bin(seconds: float, bounds: tuple) -> int:
    for i, high in enumerate(bounds):
        if seconds < high * 3600:
            return i
    return len(bounds)


def test_the_response_time_distribution_bins_every_answered_email(session, generated, bounds):
    figures = charts.response_time_distribution(session, *bounds, channel="email")
    emails = [c for c in generated["cases"] if c["channel"] == "email"
              and c["kind"] == "inquiry" and bounds[0] <= c["received_at"] < bounds[1]]
    calendar, office = Counter(), Counter()
    for case in emails:
        if case["first_response_at"] is None:
            continue
        received = case["received_at"]
        replied = max(case["first_response_at"], received)
        calendar[_bin((replied - received).total_seconds(), charts.CALENDAR_BINS)] += 1
        office[_bin(office_seconds(received, replied), charts.OFFICE_BINS)] += 1
    assert [b["n"] for b in figures["calendar_hours"]] == [
        calendar[i] for i in range(len(charts.CALENDAR_BINS) + 1)]
    assert [b["n"] for b in figures["office_hours"]] == [
        office[i] for i in range(len(charts.OFFICE_BINS) + 1)]
    assert figures["received"] == len(emails)
    assert figures["unanswered"] == sum(1 for c in emails if c["first_response_at"] is None)
    # The 24 h and working-day marks fall on bin edges, so the bars split at them.
    assert 24 in charts.CALENDAR_BINS and {9, 18} <= set(charts.OFFICE_BINS)
    report = service_measurement(session, *bounds, report_settings(_config()))
    within_24h = sum(b["n"] for b in figures["calendar_hours"] if b["to_hours"]
                     and b["to_hours"] <= 24)
    assert within_24h == pytest.approx(report["email"]["answered_within_24h"]["value"]
                                       * len(emails), abs=0.5 + sum(
        1 for c in emails if c["first_response_at"] is not None
        and (c["first_response_at"] - c["received_at"]).total_seconds() == 24 * 3600))


def test_the_rows_per_guide_are_the_reports_groups_sorted_by_a_column(session, generated,
                                                                       bounds):
    settings = report_settings(_config())
    report = service_measurement(session, *bounds, settings, group_by="guide")
    table = team.team_figures(session, *bounds, settings, "guide", sort="calls",
                              descending=True)
    groups = {g["group"]: g for g in report["groups"] if g["group"] is not None}
    assert {r["key"] for r in table["rows"]} == set(groups)
    calls = [r["figures"]["calls"]["value"] for r in table["rows"]]
    assert calls == sorted(calls, reverse=True)
    for row in table["rows"]:
        group = groups[row["key"]]
        assert row["figures"]["calls"]["value"] == sum(
            1 for c in generated["calls"] if c["agent_user_id"] == row["key"]
            and bounds[0] <= c["entered_at"] < bounds[1]
            and c["outcome"] == "answered")
        assert row["figures"]["first_contact_resolution"] == group["overall"][
            "first_contact_resolution"]
        assert row["figures"]["handling_seconds"] == group["phone"]["aht_seconds"]
    [own] = team.team_figures(session, *bounds, settings, "guide",
                              only_guide=table["rows"][0]["key"])["rows"]
    assert own == table["rows"][0]
    queues = team.team_figures(session, *bounds, settings, "queue")["rows"]
    assert [r["name"] for r in queues] == sorted((r["name"] for r in queues), key=str.casefold)
    with pytest.raises(InvalidInput):
        team.team_figures(session, *bounds, settings, "guide", sort="password")


@pytest.mark.parametrize(("kind", "anchor", "first", "last", "interval"), [
    ("day", date(2026, 3, 29), date(2026, 3, 29), date(2026, 3, 29), "hour"),
    ("week", date(2026, 12, 31), date(2026, 12, 28), date(2027, 1, 3), "day"),
    ("month", date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28), "day"),
    ("quarter", date(2026, 11, 5), date(2026, 10, 1), date(2026, 12, 31), "week"),
    ("year", date(2026, 6, 1), date(2026, 1, 1), date(2026, 12, 31), "week"),
])
def test_a_period_is_the_stockholm_days_around_its_date(kind, anchor, first, last, interval):
    period = periods.report_period(kind, anchor)
    assert (period.first, period.last, period.interval) == (first, last, interval)
    assert period.start == datetime.combine(first, datetime.min.time(), STOCKHOLM)
    # The day summer time starts has 23 hours; the period still ends at local midnight.
    if kind == "day":
        assert (period.end.astimezone(UTC) - period.start.astimezone(UTC)).total_seconds() \
            == 23 * 3600
        assert period.end.astimezone(UTC) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_a_custom_period_takes_its_dates_and_refuses_a_backward_or_too_long_one():
    period = periods.report_period("custom", date(2026, 1, 1), date(2026, 4, 1),
                                   date(2026, 4, 30))
    assert (period.first, period.last, period.interval) == (
        date(2026, 4, 1), date(2026, 4, 30), "day")
    for first, last, field in ((date(2026, 5, 1), date(2026, 4, 1), "to"),
                               (None, date(2026, 4, 1), "from"),
                               (date(2025, 1, 1), date(2026, 4, 1), "to")):
        with pytest.raises(InvalidInput) as caught:
            periods.report_period("custom", date(2026, 1, 1), first, last)
        assert caught.value.errors[0]["field"] == field
    with pytest.raises(InvalidInput):
        periods.report_period("fortnight", date(2026, 1, 1))


def test_the_report_page_reads_again_after_each_rollup_refresh(session, app, generated,
                                                               bounds):
    from tests.reports.conftest import refresh

    settings = report_settings(_config())
    first = charts.measurement_page(session, *bounds, settings, interval="week")
    assert charts.measurement_page(session, *bounds, settings, interval="week") is first
    assert charts.measurement_page(session, *bounds, settings, interval="week",
                                   queue="bygglov") is not first
    assert first["report"] == service_measurement(session, *bounds, settings,
                                                  interval="week")
    refresh(session, app)
    again = charts.measurement_page(session, *bounds, settings, interval="week")
    assert again is not first and again["report"]["rollups_refreshed_at"] != first[
        "report"]["rollups_refreshed_at"]
    # What was read before the refresh can never be served again: it is not kept.
    assert [key[0] for key in charts._PAGE_CACHE] == [session.get(RollupState, 1).refreshed_at]
