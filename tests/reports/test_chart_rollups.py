"""The report page's distribution and heatmap come from rollups (response-time bins with
the measures, hour cells per Stockholm day and hour) and equal the figures computed from
the raw calls and cases, on the days the clock goes back and forward too."""

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.reports import charts
from citizencenter.reports.models import RollupHour, RollupState
from citizencenter.reports.telephony import local_bounds
from tests.reports.conftest import refresh
from tests.reports.expected import STOCKHOLM, S, office_seconds

FALL_BACK, SPRING_FORWARD = date(2025, 10, 26), date(2026, 3, 29)


def _utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# UTC entry times around both changes: on 2025-10-26 local 02:00–03:00 comes twice
# (00:00–01:00 UTC in summer time, 01:00–02:00 UTC in winter time); on 2026-03-29 the
# local hour 02 is skipped (01:00 UTC is 03:00 summer time).
CALL_TIMES = [_utc(2025, 10, 25, 21, 50), _utc(2025, 10, 25, 22, 5), _utc(2025, 10, 26, 0, 10),
              _utc(2025, 10, 26, 0, 40), _utc(2025, 10, 26, 1, 5), _utc(2025, 10, 26, 1, 59),
              _utc(2025, 10, 26, 2, 30), _utc(2025, 10, 26, 22, 55),
              _utc(2025, 10, 26, 23, 0), _utc(2026, 3, 28, 22, 50),
              _utc(2026, 3, 28, 23, 10), _utc(2026, 3, 29, 0, 30), _utc(2026, 3, 29, 1, 0),
              _utc(2026, 3, 29, 1, 45), _utc(2026, 3, 29, 21, 59), _utc(2026, 3, 29, 22, 0)]
OUTCOMES = [("answered", 12.0), ("answered", 200.0), ("abandoned", 3.0),
            ("abandoned", 40.0), ("exited", 300.0)]
# E-mails received in the changing nights, answered after these minutes (None: never).
REPLIES = [30, 59, 61, 239, 300, 1439, 1441, 2900, 4400, 9000, None]


@pytest.fixture
def around_changes(session, app, generated):
    """Calls and e-mails in both nights, rolled up incrementally like the beat task does."""
    now = datetime.now(UTC)
    calls, cases = [], []
    for n, entered in enumerate(CALL_TIMES * 2):
        outcome, wait = OUTCOMES[n % len(OUTCOMES)]
        local = entered.astimezone(STOCKHOLM)
        calls.append(dict(generated["calls"][0], call_id=f"dst-{n}", entered_at=entered,
                          outcome=outcome, wait_s=wait, case_id=None,
                          agent_user_id=generated["calls"][0]["agent_user_id"]
                          if outcome == "answered" else None,
                          talk_s=60.0 if outcome == "answered" else None,
                          queue=("bygglov", "skola")[n % 2], local_date=local.date(),
                          local_hour=local.hour, updated_at=now))
    email = next(c for c in generated["cases"] if c["channel"] == "email")
    for n, (received, minutes) in enumerate(
            (r, m) for r in (_utc(2025, 10, 26, 0, 45), _utc(2025, 10, 26, 1, 15),
                             _utc(2026, 3, 29, 0, 45), _utc(2026, 3, 29, 1, 30))
            for m in REPLIES):
        cases.append(dict(email, id=uuid.uuid4(), reference=f"GEN-9{n:06d}", kind="inquiry",
                          received_at=received, resolved_at=None, department_id=None,
                          first_response_at=None if minutes is None
                          else received + timedelta(minutes=minutes), updated_at=now))
    session.execute(Case.__table__.insert(), cases)
    session.execute(Call.__table__.insert(), calls)
    refresh(session, app)
    return {"calls": generated["calls"] + calls, "cases": generated["cases"] + cases}


def _periods():
    """Each changing day alone (whole days: hour cells) and with ragged edges around it
    (the edges from 15-minute cells)."""
    out = []
    for day in (FALL_BACK, SPRING_FORWARD):
        start, end = local_bounds(day, day + timedelta(days=1))
        out.append((start, end))
        out.append((start - timedelta(hours=2, minutes=45), end + timedelta(hours=1, minutes=15)))
    return out


def _heatmap_from_raw(calls: list[dict], start: datetime, end: datetime) -> tuple:
    offered, answered = Counter(), Counter()
    for call in calls:
        if not start <= call["entered_at"] < end:
            continue
        local = call["entered_at"].astimezone(STOCKHOLM)
        place = (local.weekday(), local.hour)
        if not (call["outcome"] == "abandoned" and call["wait_s"] <= S):
            offered[place] += 1
        if call["outcome"] == "answered":
            answered[place] += 1
    return dict(offered), dict(answered)


def _bin(seconds: float, bounds: tuple) -> int:
    return next((i for i, high in enumerate(bounds) if seconds < high * 3600), len(bounds))


def _distribution_from_raw(cases: list[dict], start: datetime, end: datetime) -> dict:
    emails = [c for c in cases if c["channel"] == "email" and c["kind"] == "inquiry"
              and start <= c["received_at"] < end]
    calendar, office = Counter(), Counter()
    for case in emails:
        if case["first_response_at"] is None:
            continue
        received = case["received_at"]
        replied = max(case["first_response_at"], received)
        calendar[_bin((replied - received).total_seconds(), charts.CALENDAR_BINS)] += 1
        office[_bin(office_seconds(received, replied), charts.OFFICE_BINS)] += 1
    return {"calendar": [calendar[i] for i in range(len(charts.CALENDAR_BINS) + 1)],
            "office": [office[i] for i in range(len(charts.OFFICE_BINS) + 1)],
            "received": len(emails),
            "answered": sum(1 for c in emails if c["first_response_at"] is not None)}


def _figures(session, start, end) -> tuple:
    heat = charts.calls_by_weekday_hour(session, start, end)
    spread = charts.response_time_distribution(session, start, end, channel="email")
    cells = {(d, h): n for d in range(7) for h in range(24) if (n := heat["offered"][d][h])}
    answered = {(d, h): n for d in range(7) for h in range(24)
                if (n := heat["answered"][d][h])}
    return (cells, answered), {
        "calendar": [b["n"] for b in spread["calendar_hours"]],
        "office": [b["n"] for b in spread["office_hours"]],
        "received": spread["received"], "answered": spread["answered"]}


def test_the_rolled_up_heatmap_and_bins_equal_the_raw_rows_on_clock_changes(
        session, app, around_changes):
    for start, end in _periods():
        heat, spread = _figures(session, start, end)
        assert heat == _heatmap_from_raw(around_changes["calls"], start, end), (start, end)
        assert spread == _distribution_from_raw(around_changes["cases"], start, end), (
            start, end)
        assert spread["received"] > 10 and sum(heat[0].values()) > 5
    # The hour the clock goes back holds both its passes; the skipped hour has no row.
    hours = Counter()
    for row in session.scalars(select(RollupHour).where(
            RollupHour.local_date.in_([FALL_BACK, SPRING_FORWARD]))):
        hours[(row.local_date, row.hour)] += row.calls_offered
    offered = Counter((local.date(), local.hour) for c in around_changes["calls"]
                      if not (c["outcome"] == "abandoned" and c["wait_s"] <= S)
                      for local in [c["entered_at"].astimezone(STOCKHOLM)])
    assert hours == {k: n for k, n in offered.items() if k[0] in (FALL_BACK, SPRING_FORWARD)}
    passes = [c for c in CALL_TIMES if c.astimezone(STOCKHOLM).timetuple()[:4] == (
        2025, 10, 26, 2)]
    assert {c.astimezone(STOCKHOLM).utcoffset() for c in passes} == {
        timedelta(hours=2), timedelta(hours=1)} and hours[(FALL_BACK, 2)] > len(passes)
    assert (SPRING_FORWARD, 2) not in hours and (SPRING_FORWARD, 3) in hours


def test_the_job_backfills_the_new_rollups_when_the_definitions_are_cleared(
        session, app, around_changes):
    """The migration clears the definitions; the next refresh rebuilds every rollup."""
    before = [_figures(session, *period) for period in _periods()]
    session.execute(update(RollupState).values(definitions=None))
    session.execute(RollupHour.__table__.delete())
    assert refresh(session, app).rebuilt
    assert [_figures(session, *period) for period in _periods()] == before
