"""Telephony figures for written queue_log days, against an independent computation."""

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from citizencenter.cases.models import Case
from citizencenter.channels.phone import asterisk, service
from citizencenter.channels.phone.models import Call, CallEvent
from tests.channels.phone.helpers import CallSpec, apply_and_link, at
from tests.factories import bearer
from tests.reports.dataset import STOCKHOLM

S, T = 5, 120

# Wednesday 18 November 2026 at the main number and the building-permit queue.
DAY = [
    CallSpec("d.01", at(8, 0, 5), "answered", wait=12, talk=140),
    CallSpec("d.02", at(8, 3), "answered", wait=60, talk=200, caller="0462223344"),
    CallSpec("d.03", at(8, 7), "answered", wait=61, talk=95, ring_no_answer=2),
    CallSpec("d.04", at(8, 15), "answered", wait=120, talk=310, transfer=True),
    CallSpec("d.05", at(8, 20), "answered", wait=121, talk=45),
    CallSpec("d.06", at(8, 31), "abandoned", wait=5),     # at S: left out
    CallSpec("d.07", at(8, 32), "abandoned", wait=6),     # just over S: counts
    CallSpec("d.08", at(8, 40), "abandoned", wait=240, caller="anonymous"),
    CallSpec("d.09", at(8, 55), "timeout", wait=600),
    CallSpec("d.10", at(9, 2), "key", wait=33),
    CallSpec("d.11", at(9, 10), "empty", wait=0),
    CallSpec("d.12", at(9, 12), "answered", wait=3, talk=600, transfer=True),
    CallSpec("d.13", at(9, 40), "answered", wait=119, talk=80, queue="bygglov"),
    CallSpec("d.14", at(9, 45), "abandoned", wait=130, queue="bygglov"),
    CallSpec("d.15", at(10, 5), "answered", wait=0, talk=30, queue="bygglov"),
    CallSpec("d.16", at(10, 30), "abandoned", wait=1, queue="bygglov"),
    CallSpec("d.17", at(11, 59, 59), "answered", wait=90, talk=1200),
    CallSpec("d.18", at(12, 0, 0), "answered", wait=125, talk=15, transfer=True),
    CallSpec("d.19", at(16, 59), "abandoned", wait=300),
    CallSpec("d.20", at(23, 59, 59), "timeout", wait=900),  # next day when it ends
]
for number, spec in enumerate(DAY):  # different citizens: each answered call has its case
    if spec.caller == "0701234567":
        spec.caller = f"07012{number:05d}"
RESOLVED_AT_FIRST_CONTACT = {"d.01", "d.02", "d.04", "d.05", "d.13", "d.17"}


def expected(specs) -> dict:
    """The survey's definitions, written out plainly."""
    offered = [c for c in specs if not (c.outcome == "abandoned" and c.wait <= S)]
    answered = [c for c in specs if c.outcome == "answered"]
    abandoned = [c for c in specs if c.outcome == "abandoned" and c.wait > S]

    def share(part, whole):
        return round(len(part) / len(whole), 6) if whole else None

    return {
        "offered": len(offered), "answered": len(answered), "abandoned": len(abandoned),
        "exited": len([c for c in specs if c.outcome in ("timeout", "empty", "key")]),
        "service_level": {str(t): share([c for c in answered if c.wait <= t], offered)
                          for t in (60, 120)},
        "asa_seconds": round(sum(c.wait for c in answered) / len(answered), 6)
        if answered else None,
        "longest_wait_seconds": max((c.wait for c in offered), default=None),
        "abandon_rate": share(abandoned, offered),
        "aht_seconds": round(sum(c.talk for c in answered) / len(answered), 6)
        if answered else None,
        "transfer_rate": share([c for c in answered if c.transfer], answered),
        "direct_answer_rate": share([c for c in answered if c.wait <= T and not c.transfer
                                     and c.call_id in RESOLVED_AT_FIRST_CONTACT], offered),
    }


def load_day(session, lines):
    events, rejected = asterisk.parse_lines("\n".join(lines))
    assert not rejected
    for start in range(0, len(events), 17):
        service.ingest(session, events[start:start + 17])
    apply_and_link(session, session.scalars(select(CallEvent.id)).all())
    for call in session.scalars(select(Call).where(Call.call_id.in_(RESOLVED_AT_FIRST_CONTACT))):
        session.get(Case, call.case_id).resolved_at_first_contact = True
    session.commit()


def report(client, token, query):
    response = client.get(f"/api/v1/reports/telephony?{query}", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _numbers(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k != "start"}


def test_a_written_day_matches_the_definitions(client, session, tokens):
    load_day(session, [line for spec in DAY for line in spec.lines()])
    day = report(client, tokens["supervisor"], "from=2026-11-18&to=2026-11-19")
    assert _numbers(day["totals"]) == expected(DAY)
    assert day["definitions"]["service_level_formula"]["name"] == "offered"
    main = report(client, tokens["supervisor"],
                  "from=2026-11-18&to=2026-11-19&queue=kontaktcenter")
    assert _numbers(main["totals"]) == expected([c for c in DAY if c.queue == "kontaktcenter"])
    permits = report(client, tokens["supervisor"], "from=2026-11-18&to=2026-11-19&queue=bygglov")
    assert _numbers(permits["totals"]) == expected([c for c in DAY if c.queue == "bygglov"])


def test_hourly_and_daily_intervals(client, session, tokens):
    load_day(session, [line for spec in DAY for line in spec.lines()])
    hourly = report(client, tokens["supervisor"],
                    "from=2026-11-18&to=2026-11-19&interval=hour")
    by_hour = {}
    for spec in DAY:
        by_hour.setdefault(spec.entered.astimezone(STOCKHOLM).hour, []).append(spec)
    assert [datetime.fromisoformat(i["start"]).hour for i in hourly["intervals"]] == \
        sorted(by_hour)
    for interval in hourly["intervals"]:
        hour = datetime.fromisoformat(interval["start"]).hour
        assert _numbers(interval) == expected(by_hour[hour]), hour
    daily = report(client, tokens["supervisor"], "from=2026-11-17&to=2026-11-20&interval=day")
    assert [i["start"][:10] for i in daily["intervals"]] == ["2026-11-18"]
    exact = report(client, tokens["supervisor"],
                   "from=2026-11-18T08:00:00%2B01:00&to=2026-11-18T09:00:00%2B01:00")
    assert exact["totals"]["offered"] == len(
        [c for c in DAY if c.entered.astimezone(STOCKHOLM).hour == 8
         and not (c.outcome == "abandoned" and c.wait <= S)])


def test_shuffled_and_doubled_events_give_identical_figures(client, session, tokens):
    lines = [line for spec in DAY for line in spec.lines()]
    mixed = lines + lines[::3]
    random.Random(2026).shuffle(mixed)
    load_day(session, mixed)
    figures = report(client, tokens["supervisor"], "from=2026-11-18&to=2026-11-19&interval=hour")
    assert _numbers(figures["totals"]) == expected(DAY)


def test_other_service_level_formulas(client, session, tokens):
    load_day(session, [line for spec in DAY for line in spec.lines()])
    answered = [c for c in DAY if c.outcome == "answered"]
    abandoned = [c for c in DAY if c.outcome == "abandoned" and c.wait > S]
    by_answered = report(client, tokens["supervisor"],
                         "from=2026-11-18&to=2026-11-19&formula=answered")
    assert by_answered["totals"]["service_level"]["120"] == round(
        len([c for c in answered if c.wait <= 120]) / len(answered), 6)
    both = report(client, tokens["supervisor"],
                  "from=2026-11-18&to=2026-11-19&formula=answered_and_abandoned")
    assert both["totals"]["service_level"]["60"] == round(
        len([c for c in answered if c.wait <= 60]) / (len(answered) + len(abandoned)), 6)
    assert "abandoned" in both["definitions"]["service_level_formula"]["formula"]


def test_an_empty_period(client, session, tokens):
    empty = report(client, tokens["supervisor"], "from=2026-01-01&to=2026-01-02")
    assert empty["totals"]["offered"] == 0 and empty["totals"]["asa_seconds"] is None


@pytest.mark.parametrize(("query", "field"), [
    ("to=2026-11-19", "from"),
    ("from=2026-11-19&to=2026-11-18", "from"),
    ("from=2026-11-18&to=2026-11-18", "from"),
    ("from=yesterday&to=2026-11-18", "from"),
    ("from=2026-11-18T08:00:00&to=2026-11-19", "from"),
    ("from=2026-01-01&to=2026-12-31&interval=hour", "to"),
    ("from=2020-01-01&to=2026-12-31", "to"),
    ("from=2026-11-17&to=2026-11-18&interval=minute", "interval"),
    ("from=2026-11-17&to=2026-11-18&formula=best", "formula"),
    ("from=2026-11-17&to=2026-11-18&colour=red", "colour"),
])
def test_bad_report_queries_are_422(client, tokens, query, field):
    response = client.get(f"/api/v1/reports/telephony?{query}",
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_guides_cannot_read_reports(client, tokens):
    response = client.get("/api/v1/reports/telephony?from=2026-11-17&to=2026-11-18",
                          headers=bearer(tokens["guide"]))
    assert response.status_code == 403


def test_calls_outside_the_period_are_left_out(client, session, tokens):
    load_day(session, [line for spec in DAY for line in spec.lines()])
    late = report(client, tokens["supervisor"],
                  "from=2026-11-18T23:00:00Z&to=2026-11-19T00:00:00Z")
    assert late["totals"]["offered"] == 0
    midnight = datetime(2026, 11, 18, 22, 59, 59, tzinfo=UTC)
    assert DAY[-1].entered == midnight
