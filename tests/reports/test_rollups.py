"""Incremental refresh: only touched buckets change, and the figures follow the sources."""

import copy
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select

from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.db import utcnow
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.reports.facts import bucket_of
from citizencenter.reports.models import RollupCell
from tests.factories import bearer
from tests.reports.conftest import refresh
from tests.reports.dataset import STOCKHOLM
from tests.reports.test_service_measurement import PERIODS, _query, expected_report, values


def _report(client, tokens, start, end):
    response = client.get(f"/api/v1/reports/service-measurement?{_query(start, end)}",
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200
    return response.get_json()


def test_a_refresh_without_changes_touches_nothing(session, app, generated):
    result = refresh(session, app)
    assert result.buckets == set() and result.facts_written == 0


def test_changes_refresh_only_their_buckets_and_the_figures_follow(client, session, app,
                                                                   tokens, generated):
    data = copy.deepcopy(generated)
    calls = {c["call_id"]: c for c in data["calls"]}
    cases = {c["id"]: c for c in data["cases"]}
    now = utcnow()
    touched = set()

    # A phone case resolved at first contact after all: its call becomes a direct answer.
    linked = next(c for c in data["calls"] if c["case_id"] and c["wait_s"] <= 120
                  and not c["transferred"] and not cases[c["case_id"]]["resolved_at_first_contact"])
    session.get(Case, linked["case_id"]).resolved_at_first_contact = True
    cases[linked["case_id"]]["resolved_at_first_contact"] = True
    touched |= {bucket_of(linked["entered_at"])[0],
                bucket_of(cases[linked["case_id"]]["received_at"])[0]}

    # A late, earlier event moves a call into another bucket: both buckets change.
    moved = calls["gen-17"]
    call = session.scalar(select(Call).where(Call.call_id == "gen-17"))
    touched.add(bucket_of(moved["entered_at"])[0])
    moved["entered_at"] = call.entered_at = moved["entered_at"] - timedelta(minutes=47)
    call.local_date = moved["entered_at"].astimezone(STOCKHOLM).date()
    touched.add(bucket_of(moved["entered_at"])[0])

    # A new inquiry from the same contact in the same category two days later turns an
    # earlier inquiry into a repeat contact.
    def followed(c):
        return any(o["kind"] == "inquiry" and (o["contact_id"], o["category_id"]) ==
                   (c["contact_id"], c["category_id"])
                   and c["received_at"] < o["received_at"] <= c["received_at"]
                   + timedelta(days=7) for o in data["cases"])

    earlier = next(c for c in data["cases"] if c["channel"] == "email" and c["contact_id"]
                   and c["kind"] == "inquiry" and c["received_at"].month == 9
                   and not followed(c))
    repeat = {**earlier, "id": uuid.uuid4(), "reference": "GEN-9999999",
              "received_at": earlier["received_at"] + timedelta(days=2),
              "first_response_at": None, "resolved_at": None, "updated_at": now}
    session.execute(Case.__table__.insert(), [repeat])
    data["cases"].append(repeat)
    touched |= {bucket_of(earlier["received_at"])[0], bucket_of(repeat["received_at"])[0]}

    # A citizen answers the feedback form for a case that had no answer yet.
    rated = {f["case_id"] for f in data["feedback"]}
    unrated = next(c for c in data["cases"] if c["id"] not in rated and c["kind"] == "inquiry")
    request_id = session.scalar(FeedbackRequest.__table__.insert().returning(
        FeedbackRequest.id), [{"case_id": unrated["id"], "channel": unrated["channel"],
                              "nonce": "late", "created_at": now, "expires_at": now}])
    answer = {"request_id": request_id, "case_id": unrated["id"], "channel": unrated["channel"],
              "courtesy": 2, "ease": 5, "clarity": 4, "submitted_at": now}
    session.execute(FeedbackResponse.__table__.insert(), [answer])
    data["feedback"].append(answer)
    touched.add(bucket_of(unrated["received_at"])[0])
    session.commit()

    result = refresh(session, app)
    assert not result.rebuilt
    assert result.buckets == touched
    assert result.days == {b.astimezone(STOCKHOLM).date() for b in touched}
    for start, end in PERIODS:
        assert values(_report(client, tokens, start, end)) == \
            expected_report(data, start, end)


def test_reports_read_the_rollups_not_the_calls(client, session, tokens, generated):
    start, end = PERIODS[0]
    before = _report(client, tokens, start, end)
    session.execute(delete(Call).where(Call.source == "gen"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(Call)) == 0
    assert _report(client, tokens, start, end) == before


def test_changed_definitions_rebuild_everything(session, app, generated):
    cells_before = session.scalar(select(func.count()).select_from(RollupCell))
    app.config["PHONE_SHORT_ABANDON_S"] = 10
    try:
        result = refresh(session, app)
    finally:
        app.config["PHONE_SHORT_ABANDON_S"] = 5
    sources = session.scalar(select(func.count()).select_from(Call).where(
        Call.entered_at.is_not(None))) + session.scalar(
        select(func.count()).select_from(Case).where(Case.kind == "inquiry"))
    assert result.rebuilt and result.facts_written == sources
    assert session.scalar(select(func.count()).select_from(RollupCell)) == cells_before
