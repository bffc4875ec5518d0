"""Presence through the API and from the phone system; the phone system's routing question."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.channels.phone import asterisk
from citizencenter.channels.phone import service as phone
from citizencenter.channels.phone.models import CallEvent, PbxAgent
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import presence
from citizencenter.routing.models import GuideProfile, Presence, RoutingDecision
from citizencenter.routing.service import route_case
from tests.factories import bearer

DECIDE = "/api/v1/routing/decide"


@pytest.fixture(autouse=True)
def nobody_free(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def _anna(session) -> User:
    return session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))


def test_guides_set_their_own_presence_and_supervisors_anyones(client, tokens, session, guide):
    anna = _anna(session)
    url = f"/api/v1/routing/guides/{anna.id}/presence"
    response = client.put(url, json={"presence": "available"}, headers=bearer(tokens["guide"]))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["presence"] == "available"
    other = guide(presence="offline")
    refused = client.put(f"/api/v1/routing/guides/{other.user_id}/presence",
                         json={"presence": "available"}, headers=bearer(tokens["guide"]))
    assert refused.status_code == 403
    assert client.put(f"/api/v1/routing/guides/{other.user_id}/presence",
                      json={"presence": "away"},
                      headers=bearer(tokens["supervisor"])).status_code == 200
    for body, field in (({"presence": "sleeping"}, "presence"), ({}, "presence"),
                        ({"presence": "busy", "until": "17:00"}, "until")):
        bad = client.put(url, json=body, headers=bearer(tokens["guide"]))
        assert bad.status_code == 422 and field in [e["field"] for e in bad.get_json()["errors"]]
    assert client.put("/api/v1/routing/guides/999999/presence", json={"presence": "away"},
                      headers=bearer(tokens["supervisor"])).status_code in (403, 404)
    assert session.get(GuideProfile, anna.id).presence == Presence.AVAILABLE


def test_supervisors_edit_skills_and_capacity(client, tokens, session):
    anna = _anna(session)
    url = f"/api/v1/routing/guides/{anna.id}"
    response = client.patch(url, headers=bearer(tokens["supervisor"]), json={
        "skills": {"categories": ["bygglov"], "languages": ["sv", "en"],
                   "channels": ["phone", "email"]},
        "capacities": {"phone": 1, "email": 4}, "queues": ["kontaktcenter", "epost"],
        "service_point": "kristallen"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["skills"] == {"categories": ["bygglov"], "languages": ["en", "sv"],
                              "channels": ["email", "phone"]}
    assert body["capacities"] == {"phone": 1, "email": 4} and body["service_point"] == "kristallen"
    assert body["queues"] == ["kontaktcenter", "epost"] and body["load"] == {}
    for changes, field in (({"capacities": {"fax": 1}}, "capacities"),
                           ({"capacities": {"email": -1}}, "capacities"),
                           ({"queues": ["ingenstans"]}, "queues"),
                           ({"skills": {"categories": ["astrologi"]}}, "skills.categories"),
                           ({"service_point": "mars"}, "service_point"),
                           ({}, "_schema")):
        bad = client.patch(url, headers=bearer(tokens["supervisor"]), json=changes)
        assert bad.status_code == 422, changes
        assert any(e["field"].startswith(field) for e in bad.get_json()["errors"]), changes
    assert client.patch(url, headers=bearer(tokens["guide"]),
                        json={"capacities": {"email": 50}}).status_code == 403
    listed = client.get("/api/v1/routing/guides", headers=bearer(tokens["supervisor"]))
    mine = next(g for g in listed.get_json()["items"] if g["user_id"] == anna.id)
    assert mine["capacities"] == {"phone": 1, "email": 4}


def _apply(session, lines):
    events, rejected = asterisk.parse_lines("\n".join(lines))
    assert rejected == []
    phone.ingest(session, events)
    ids = session.scalars(select(CallEvent.id).where(CallEvent.applied_at.is_(None))).all()
    phone.apply_events(session, ids)
    topic = session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "calls.applied")
                           .order_by(OutboxMessage.id.desc()))
    return presence.apply_call_presence(session, topic.payload["call_ids"])


def test_the_phone_system_makes_a_guide_busy_and_free_again(session):
    anna = _anna(session)
    session.add(PbxAgent(agent_id="SIP/8007", user_id=anna.id))
    presence.set_presence(session, SYSTEM, anna.id, Presence.AVAILABLE)
    t0 = int((utcnow() + timedelta(seconds=5)).timestamp())
    enter = f"{t0}|c.1|kontaktcenter|NONE|ENTERQUEUE||0701234567|1"
    connect = f"{t0 + 10}|c.1|kontaktcenter|SIP/8007|CONNECT|10|c.1.2|4"
    complete = f"{t0 + 70}|c.1|kontaktcenter|SIP/8007|COMPLETEAGENT|10|60|1"
    assert _apply(session, [enter, connect]) == 1
    assert session.get(GuideProfile, anna.id).presence == Presence.BUSY
    assert _apply(session, [complete]) == 1
    profile = session.get(GuideProfile, anna.id)
    assert profile.presence == Presence.AVAILABLE and profile.presence_source == "call"
    # A repeated, older event changes nothing; a guide who went away stays away.
    assert _apply(session, [connect.replace("c.1.2", "c.1.3")]) == 0
    presence.set_presence(session, SYSTEM, anna.id, Presence.AWAY)
    t1 = t0 + 100
    _apply(session, [f"{t1}|c.2|kontaktcenter|NONE|ENTERQUEUE||0701234567|1",
                     f"{t1 + 5}|c.2|kontaktcenter|SIP/8007|CONNECT|5|c.2.2|4",
                     f"{t1 + 50}|c.2|kontaktcenter|SIP/8007|COMPLETEAGENT|5|45|1"])
    assert session.get(GuideProfile, anna.id).presence == Presence.AWAY


def test_decide_names_the_sticky_guides_agent_or_the_longest_idle(client, tokens, session,
                                                                   guide):
    sticky = guide(idle_for_s=5)
    longest = guide(idle_for_s=500)
    no_phone = guide(idle_for_s=900, capacities={"email": 5, "phone": 0})
    session.add_all([PbxAgent(agent_id="SIP/1", user_id=sticky.user_id),
                     PbxAgent(agent_id="SIP/2", user_id=longest.user_id),
                     PbxAgent(agent_id="SIP/3", user_id=no_phone.user_id)])
    session.commit()
    helped = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Fråga",
                             description="Hej", contact={"phone": "+4646355000"},
                             assignee_id=sticky.user_id)
    route_case(session, helped.id)
    auth = bearer(tokens["integration"])
    answer = client.post(DECIDE, json={"caller": "+4646355000", "queue": "kontaktcenter"},
                         headers=auth)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"agent": "SIP/1", "user_id": sticky.user_id,
                                 "reason": "sticky"}
    stranger = client.post(DECIDE, json={"caller": "0701112233", "queue": "kontaktcenter"},
                           headers=auth).get_json()
    assert stranger == {"agent": "SIP/2", "user_id": longest.user_id, "reason": "longest_idle"}
    withheld = client.post(DECIDE, json={"caller": "anonymous", "queue": "kontaktcenter"},
                           headers=bearer(tokens["supervisor"]))
    assert withheld.get_json()["agent"] == "SIP/2"
    for user in (sticky, longest):
        user.presence = Presence.BUSY
    session.commit()
    nobody = client.post(DECIDE, json={"caller": "+4646355000", "queue": "kontaktcenter"},
                         headers=auth).get_json()
    assert nobody == {"agent": None, "user_id": None, "reason": "none_available"}
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.kind == "call_decision").order_by(RoutingDecision.id.desc()))
    assert decision.reason == "none_available" and "+46" not in str(decision.details)
    for body, field in (({"caller": "+4646355000", "queue": "ingenstans"}, "queue"),
                        ({"caller": "12ab", "queue": "kontaktcenter"}, "caller"),
                        ({"caller": "+4646355000"}, "queue"),
                        ({"queue": "kontaktcenter", "agent": "x"}, "agent")):
        bad = client.post(DECIDE, json=body, headers=auth)
        assert bad.status_code == 422, body
        assert field in [e["field"] for e in bad.get_json()["errors"]]
    assert client.post(DECIDE, json={"queue": "kontaktcenter"},
                       headers=bearer(tokens["guide"])).status_code == 403


def test_decide_weighs_queues_and_phone_load_in_one_read_and_records_one_row(
        client, tokens, session, guide, engine):
    from sqlalchemy import event

    from citizencenter.organisation.models import Queue

    queue_ids = dict(session.execute(select(Queue.slug, Queue.id)).all())
    phone = {"email": 5, "phone": 1}
    elsewhere = guide(idle_for_s=900, skills={}, capacities=phone, queues=[queue_ids["epost"]])
    busy = guide(idle_for_s=800, skills={}, capacities=phone)
    free = guide(idle_for_s=700, skills={}, capacities=phone)
    sticky = guide(idle_for_s=100, skills={}, capacities=phone,
                   queues=[queue_ids["kontaktcenter"], queue_ids["bygglov"]])
    guide(idle_for_s=1000, skills={}, capacities=phone)  # no PBX agent: never rung
    session.add_all([PbxAgent(agent_id=f"SIP/7{n}", user_id=p.user_id)
                     for n, p in enumerate((elsewhere, busy, free, sticky))])
    session.commit()
    on_the_phone = cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Samtal",
                                   description="Hej", contact={"phone": "+4646355001"},
                                   assignee_id=busy.user_id)
    helped = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Fråga",
                             description="Hej", contact={"phone": "+4646355002"},
                             assignee_id=sticky.user_id)
    auth = bearer(tokens["integration"])
    accounts.authenticate(session, tokens["integration"])  # kept, as after a first request
    session.commit()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement.lstrip().split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        # The caller's last guide is on a call (phone capacity 1): the longest idle who
        # serves the queue and has a PBX agent gets the call.
        answer = client.post(DECIDE, json={"caller": "+4646355001", "queue": "kontaktcenter"},
                             headers=auth).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answer == {"agent": "SIP/72", "user_id": free.user_id, "reason": "longest_idle"}
    # The reference data's version (the token is kept), one read for the queue, the caller's
    # last guide and the free guides, one insert.
    assert statements == ["SELECT", "SELECT", "INSERT"]
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.kind == "call_decision").order_by(RoutingDecision.id.desc()))
    assert (decision.case_id, decision.queue_id, decision.chosen_user_id, decision.actor) == \
        (None, queue_ids["kontaktcenter"], free.user_id, "system")
    assert decision.candidates == [{"user_id": free.user_id, "fit": "ok"},
                                   {"user_id": sticky.user_id, "fit": "ok"}]
    assert decision.details == {"contact_id": on_the_phone.contact_id}
    assert client.post(DECIDE, json={"caller": "+4646355002", "queue": "kontaktcenter"},
                       headers=auth).get_json()["reason"] == "sticky"
    # A department's queue: only a guide who lists it serves it.
    assert client.post(DECIDE, json={"caller": None, "queue": "bygglov"},
                       headers=auth).get_json() == {"agent": "SIP/73", "user_id": sticky.user_id,
                                                    "reason": "longest_idle"}
    assert helped.assignee_id == sticky.user_id


def test_the_decision_record_commits_without_waiting_for_the_wal_flush(client, tokens, session):
    """The answer's one write, the record of it, does not hold the ringing caller up."""
    from sqlalchemy import event, text

    from citizencenter.db import is_postgresql

    def post():
        return client.post(DECIDE, json={"caller": "+4646355009", "queue": "kontaktcenter"},
                           headers=bearer(tokens["integration"]))

    if not is_postgresql(session):  # SQLite has no such setting: the answer alone is checked
        assert post().status_code == 200
        return
    assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    seen = []

    def note(committing):
        seen.append(committing.execute(text("SHOW synchronous_commit")).scalar())

    event.listen(session, "before_commit", note)
    try:
        answer = post()
    finally:
        event.remove(session, "before_commit", note)
    assert answer.status_code == 200 and answer.get_json()["reason"] == "none_available"
    assert seen == ["off"], seen
