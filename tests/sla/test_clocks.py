"""Case timers through the API and the database: deadlines, replies, pauses, reopening."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from citizencenter.accounts.models import User
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import CaseKind, CaseStatus, Channel, Direction
from citizencenter.cases.models import Case
from citizencenter.sla import service as sla_service
from citizencenter.sla.calendars.calendar import office_hours_calendar
from citizencenter.sla.models import SlaTimer
from tests.factories import bearer, create_case
from tests.sla.helpers import (
    calendar_body,
    iso_utc,
    local,
    policy_body,
    sla_of,
    timers_by_policy,
)

HOUR = timedelta(hours=1)


def _patch(client, token, case_id, **changes):
    case = client.get(f"/api/v1/cases/{case_id}", headers=bearer(token))
    response = client.patch(f"/api/v1/cases/{case_id}", json=changes,
                            headers={**bearer(token), "If-Match": case.headers["ETag"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _message(client, token, case_id, direction, **extra):
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(token),
                           json={"direction": direction, "body": "Hej!", **extra})
    assert response.status_code == 201, response.get_json()


def test_email_before_midsummer_is_due_monday_at_the_same_time(client, tokens):
    # Thursday 18 June 2026 16:30; midsommarafton (Friday) and the weekend are closed.
    case = create_case(client, tokens["guide"], channel="email",
                       received_at=local(2026, 6, 18, 16, 30).isoformat())
    timers = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))
    working_day = timers["epost-forsta-svar-1-arbetsdag"][0]
    assert working_day["due_at"] == iso_utc(local(2026, 6, 22, 16, 30))
    assert (working_day["calendar"], working_day["calendar_version"]) == ("kontorstid", 1)
    assert working_day["target_s"] == 9 * 3600  # 30 min on Thursday, 8.5 h on Monday
    calendar_day = timers["epost-forsta-svar-24h"][0]
    assert calendar_day["due_at"] == iso_utc(local(2026, 6, 19, 16, 30))
    assert calendar_day["calendar"] is None
    # Five working days later: Monday to Friday of the week after midsummer.
    assert timers["avslut"][0]["due_at"] == iso_utc(local(2026, 6, 26, 16, 30))


def test_calendar_hours_across_the_spring_clock_change(client, tokens):
    # Saturday 28 March 2026 12:00 CET; the clocks go forward that night.
    case = create_case(client, tokens["guide"], channel="email",
                       received_at=local(2026, 3, 28, 12).isoformat())
    timers = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))
    due = datetime.fromisoformat(timers["epost-forsta-svar-24h"][0]["due_at"])
    assert due == datetime(2026, 3, 29, 11, tzinfo=UTC)  # 13:00 CEST, 24 real hours later
    assert due.astimezone(local(2026, 3, 29).tzinfo).hour == 13


def test_working_hours_across_the_autumn_clock_change(client, tokens):
    # Social media, 4 working hours: Friday 23 October 2026 15:00 CEST, 2 h left that day,
    # the rest on Monday 26 October in CET.
    case = create_case(client, tokens["guide"], channel="social",
                       received_at=local(2026, 10, 23, 15).isoformat())
    timer = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))[
        "sociala-forsta-svar"][0]
    assert timer["due_at"] == iso_utc(local(2026, 10, 26, 10))
    assert timer["due_at"] == "2026-10-26T09:00:00+00:00"


def test_lunch_closure_from_a_calendar_created_through_the_api(client, tokens):
    headers = bearer(tokens["supervisor"])
    assert client.post("/api/v1/sla/calendars", json=calendar_body("lunch-test"),
                       headers=headers).status_code == 201
    assert client.post("/api/v1/sla/policies", headers=headers, json=policy_body(
        "sociala-avfall", category="avfall", calendar="lunch-test")).status_code == 201
    case = create_case(client, tokens["guide"], channel="social", category="avfall",
                       received_at=local(2026, 3, 2, 11, 30).isoformat())
    timers = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))
    # The more specific policy (channel and category) replaces the channel-wide one.
    assert "sociala-forsta-svar" not in timers
    assert timers["sociala-avfall"][0]["due_at"] == iso_utc(local(2026, 3, 2, 13, 30))
    assert timers["sociala-avfall"][0]["warn_at"] == iso_utc(local(2026, 3, 2, 13, 18))


def test_timers_keep_the_calendar_version_they_started_with(client, tokens):
    headers = bearer(tokens["supervisor"])
    client.post("/api/v1/sla/calendars", json=calendar_body("versionstest"), headers=headers)
    client.post("/api/v1/sla/policies", headers=headers, json=policy_body(
        "sociala-miljo", category="miljo-halsa", calendar="versionstest", target_value=2))
    before = create_case(client, tokens["guide"], channel="social", category="miljo-halsa",
                         received_at=local(2026, 3, 2, 11).isoformat())
    body = calendar_body("versionstest", weekly_hours={"monday": ["08:00-17:00"]})
    del body["slug"]
    assert client.put("/api/v1/sla/calendars/versionstest", json=body,
                      headers=headers).get_json()["version"] == 2
    after = create_case(client, tokens["guide"], channel="social", category="miljo-halsa",
                        received_at=local(2026, 3, 2, 11).isoformat())
    old = timers_by_policy(sla_of(client, tokens["guide"], before["id"]))["sociala-miljo"][0]
    new = timers_by_policy(sla_of(client, tokens["guide"], after["id"]))["sociala-miljo"][0]
    assert (old["calendar_version"], old["due_at"]) == (1, iso_utc(local(2026, 3, 2, 14)))
    assert (new["calendar_version"], new["due_at"]) == (2, iso_utc(local(2026, 3, 2, 13)))


def test_first_human_reply_fulfils_first_response_and_auto_replies_do_not(client, tokens,
                                                                           session):
    case = create_case(client, tokens["guide"], channel="email")
    case_id = uuid.UUID(case["id"])
    # An automatic acknowledgement, and a message from the system actor: neither counts.
    # Only the system marks a message auto; a client may not (see test_bad_input.py).
    guide = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    cases_service.add_message(session, replace(SYSTEM, user_id=guide.id), case_id,
                              direction=Direction.OUTBOUND, body="Tack för ditt meddelande.",
                              channel_metadata={"auto": True, "kind": "acknowledgement"})
    cases_service.add_message(session, SYSTEM, case_id, direction=Direction.OUTBOUND,
                              body="Tack för ditt meddelande.")
    timers = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))
    assert timers["epost-forsta-svar-24h"][0]["status"] == "running"
    _message(client, tokens["guide"], case["id"], "internal")
    _message(client, tokens["guide"], case["id"], "outbound")
    sla = sla_of(client, tokens["guide"], case["id"])
    timers = timers_by_policy(sla)
    for slug in ("epost-forsta-svar-24h", "epost-forsta-svar-1-arbetsdag"):
        assert timers[slug][0]["status"] == "fulfilled"
        assert timers[slug][0]["fulfilled_at"] is not None
    assert timers["avslut"][0]["status"] == "running"
    fulfilled = [e for e in sla["ledger"] if e["event"] == "fulfilled"]
    assert len(fulfilled) == 2 and all(e["details"]["within_target"] for e in fulfilled)
    # The citizen writes again: a next-response clock starts; the reply stops it.
    _message(client, tokens["guide"], case["id"], "inbound")
    assert timers_by_policy(sla_of(client, tokens["guide"], case["id"]))[
        "epost-nasta-svar"][0]["status"] == "running"
    _message(client, tokens["guide"], case["id"], "outbound")
    assert timers_by_policy(sla_of(client, tokens["guide"], case["id"]))[
        "epost-nasta-svar"][0]["status"] == "fulfilled"


def test_resolution_and_reopening(client, tokens):
    case = create_case(client, tokens["guide"], channel="webform")
    _patch(client, tokens["guide"], case["id"], status="resolved")
    sla = sla_of(client, tokens["guide"], case["id"])
    timers = timers_by_policy(sla)
    assert timers["avslut"][0]["status"] == "fulfilled"
    # Never answered but resolved: the first-response clock is stopped, not fulfilled.
    assert timers["webb-forsta-svar"][0]["status"] == "stopped"
    _message(client, tokens["guide"], case["id"], "inbound")  # the citizen writes again
    timers = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))
    assert [t["status"] for t in timers["avslut"]] == ["fulfilled", "running"]
    assert timers["avslut"][1]["started_at"] > timers["avslut"][0]["started_at"]


def test_forwarding_starts_the_department_clock_and_scopes_visibility(client, tokens):
    case = create_case(client, tokens["guide"], channel="email")
    url = f"/api/v1/cases/{case['id']}/sla"
    assert client.get(url, headers=bearer(tokens["department"])).status_code == 404
    forwarded = client.post(f"{url.removesuffix('/sla')}/forward", headers=bearer(tokens["guide"]),
                            json={"department": "stadsbyggnad", "note": "Till er."})
    assert forwarded.status_code == 201, forwarded.get_json()
    sla = sla_of(client, tokens["department"], case["id"])
    department = timers_by_policy(sla)["forvaltning-avslut"][0]
    assert department["metric"] == "department_resolution"
    assert department["calendar"] == "forvaltning" and department["status"] == "running"
    assert client.get(url, headers=bearer(tokens["integration"])).status_code == 403
    assert client.get("/api/v1/cases/00000000-0000-0000-0000-000000000000/sla",
                      headers=bearer(tokens["admin"])).status_code == 404


def test_waiting_on_the_citizen_pauses_through_the_api(client, tokens):
    case = create_case(client, tokens["guide"], channel="email")
    _patch(client, tokens["guide"], case["id"], status="waiting_on_citizen")
    paused = timers_by_policy(sla_of(client, tokens["guide"], case["id"]))["avslut"][0]
    assert paused["status"] == "paused" and paused["paused_since"] is not None
    # Only the resolution policy pauses; first response keeps running.
    assert timers_by_policy(sla_of(client, tokens["guide"], case["id"]))[
        "epost-forsta-svar-24h"][0]["status"] == "running"
    _message(client, tokens["guide"], case["id"], "inbound")  # the answer resumes it
    sla = sla_of(client, tokens["guide"], case["id"])
    timer = timers_by_policy(sla)["avslut"][0]
    events = [e for e in sla["ledger"] if e["timer_id"] == timer["id"]]
    assert [e["event"] for e in events] == ["started", "paused", "resumed"]
    pause = (datetime.fromisoformat(events[1]["occurred_at"]),
             datetime.fromisoformat(events[2]["occurred_at"]))
    office = office_hours_calendar()
    started = datetime.fromisoformat(timer["started_at"])
    budget = timedelta(seconds=timer["target_s"])
    expected = office.due_at_with_pauses(started, budget, [pause])
    assert datetime.fromisoformat(timer["due_at"]) == expected
    assert timer["paused_s"] == int(office.business_time_between(*pause).total_seconds())


def test_a_pause_shifts_the_due_time_by_the_paused_working_time(session):
    case = cases_service.add_case(session, SYSTEM, channel=Channel.EMAIL, subject="Paus",
                                  description="Fråga", received_at=local(2026, 3, 2, 9))
    timer = session.scalar(select(SlaTimer).join(SlaTimer.policy).where(
        SlaTimer.case_id == case.id, SlaTimer.policy.has(slug="avslut")))
    assert timer.due_at == local(2026, 3, 9, 9)  # five working days
    for status, at in ((CaseStatus.WAITING_ON_CITIZEN, local(2026, 3, 3, 10)),
                       (CaseStatus.OPEN, local(2026, 3, 4, 11))):
        previous, case.status = case.status, status
        sla_service.on_case_event(session, case, "status_changed", previous=previous, at=at)
    # Paused Tuesday 10–17 and Wednesday 08–11: ten open hours.
    assert timer.paused_s == 10 * 3600
    assert timer.due_at == local(2026, 3, 10, 10)
    assert timer.warn_at == office_hours_calendar().due_at_with_pauses(
        local(2026, 3, 2, 9), 36 * HOUR, [(local(2026, 3, 3, 10), local(2026, 3, 4, 11))])


def test_callback_due_time_comes_from_the_callback_policy(client, tokens, session):
    missed_at = local(2026, 11, 18, 16, 30, 40)
    case = cases_service.add_case(session, SYSTEM, channel=Channel.PHONE, subject="Ring upp",
                                  description="", kind=CaseKind.CALLBACK, received_at=missed_at)
    assert case.due_at == local(2026, 11, 19, 9, 30, 40)  # two working hours
    timers = session.scalars(select(SlaTimer).where(SlaTimer.case_id == case.id)).all()
    assert {t.metric.value for t in timers} == {"callback", "resolution"}
    response = client.patch("/api/v1/sla/policies/ring-upp", json={"target_value": 60},
                            headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200
    sooner = cases_service.add_case(session, SYSTEM, channel=Channel.PHONE, subject="Ring upp",
                                    description="", kind=CaseKind.CALLBACK,
                                    received_at=missed_at)
    assert sooner.due_at == local(2026, 11, 19, 8, 30, 40)
    assert session.get(Case, case.id).due_at == local(2026, 11, 19, 9, 30, 40)
