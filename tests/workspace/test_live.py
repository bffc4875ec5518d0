"""Screen pops and the waiting count over Redis, and what the screen pop shows."""

import json
import time
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, text, update

from citizencenter import db, redis_pool
from citizencenter.audit.models import AuditEntry
from citizencenter.channels.phone import asterisk
from citizencenter.channels.phone import service as phone
from citizencenter.channels.phone.models import Call, CallEvent, PbxAgent
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.errors import NotFound
from citizencenter.outbox import OutboxMessage
from citizencenter.workspace import live
from citizencenter.workspace import service as workspace
from tests.channels.phone.helpers import post_events
from tests.workspace.conftest import TEST_DOMAIN, add_case, add_user, principal

# Unique to the run: the browser tests commit contacts with numbers of their own.
NATIONAL = f"0709{time.time_ns() // 1000 % 10**6:06d}"
CALLER = "+46" + NATIONAL[1:]


@pytest.fixture
def store(redis_server):
    client = redis_pool.client(redis_server.url)
    client.delete(live.WAITING_KEY)
    return client


def _lines(call_id: str, agent: str, *, caller: str = NATIONAL, ended: bool = False):
    t0 = int((utcnow() - timedelta(seconds=30)).timestamp())
    lines = [f"{t0}|{call_id}|kontaktcenter|NONE|ENTERQUEUE||{caller}|1",
             f"{t0 + 10}|{call_id}|kontaktcenter|{agent}|CONNECT|10|{call_id}.2|4"]
    if ended:
        lines.append(f"{t0 + 20}|{call_id}|kontaktcenter|{agent}|COMPLETEAGENT|10|10|1")
    return lines


def _apply(session, lines) -> list[dict]:
    """Apply the lines as the worker does; the screen pops the outbox then holds."""
    events, rejected = asterisk.parse_lines("\n".join(lines))
    assert rejected == []
    phone.ingest(session, events)
    phone.apply_events(session, session.scalars(
        select(CallEvent.id).where(CallEvent.applied_at.is_(None))).all())
    pops = session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic == "calls.answered", OutboxMessage.published_at.is_(None))).all()
    for message in pops:
        message.published_at = utcnow()
    session.flush()
    return [message.payload for message in pops]


def test_an_answered_call_of_a_mapped_agent_pops_once_with_ids_only(session):
    guide = add_user(session)
    session.add(PbxAgent(agent_id="SIP/4711", user_id=guide.id))
    session.commit()
    payloads = _apply(session, _lines("w.1", "SIP/4711"))
    call = session.scalar(select(Call).where(Call.call_id == "w.1"))
    assert payloads == [{"call_ids": [call.id]}]
    assert _apply(session, _lines("w.1", "SIP/4711", ended=True)[2:]) == []  # ended: no pop
    # An unmapped agent, and a call reported only once it ended, pop nobody.
    assert _apply(session, _lines("w.2", "SIP/9999")) == []
    assert _apply(session, _lines("w.3", "SIP/4711", ended=True)) == []


def test_pops_go_to_the_guides_own_channel(session, store):
    guide, other = add_user(session), add_user(session)
    session.add(PbxAgent(agent_id="SIP/4712", user_id=guide.id))
    session.commit()
    _apply(session, _lines("w.4", "SIP/4712"))
    call = session.scalar(select(Call).where(Call.call_id == "w.4"))
    mine, theirs = store.pubsub(), store.pubsub()
    mine.subscribe(live.user_channel(guide.id))
    theirs.subscribe(live.user_channel(other.id))
    for pubsub in (mine, theirs):
        assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    assert live.publish_screen_pops(session, store, [call.id]) == 1
    message = mine.get_message(timeout=2)
    assert json.loads(message["data"]) == {"call_id": call.id}
    assert NATIONAL not in message["data"] and CALLER not in message["data"]
    assert theirs.get_message(timeout=0.2) is None
    mine.close()
    theirs.close()


def test_the_event_stream_yields_waiting_counts_and_screen_pops(session, store):
    guide = add_user(session)
    add_case(session, queue_id=None, waiting_since=utcnow())  # no queue: not counted
    session.commit()
    assert live.publish_waiting(session, store) is True
    assert live.publish_waiting(session, store) is False  # unchanged: not published again
    stream = live.workspace_events(store, guide.id, heartbeat_s=0.3, max_s=3)
    first = next(stream)
    assert first.startswith("retry: 3000\n\nevent: waiting\ndata: {")
    store.publish(live.user_channel(guide.id), json.dumps({"call_id": 42}))
    assert next(stream) == 'event: screen_pop\ndata: {"call_id": 42}\n\n'
    assert next(stream) == ": heartbeat\n\n"
    stream.close()
    with pytest.raises(live.WorkspaceFeedUnavailable):
        live.workspace_events(redis.Redis(port=1, socket_connect_timeout=0.2), guide.id, 1)


def test_a_stream_starts_with_the_call_the_guide_is_on(session, store):
    guide, other = add_user(session), add_user(session)
    session.add(PbxAgent(agent_id="SIP/4713", user_id=guide.id))
    session.commit()
    assert live.current_call(session, guide.id) is None
    _apply(session, _lines("w.5", "SIP/4713"))
    call = session.scalar(select(Call).where(Call.call_id == "w.5"))
    assert live.current_call(session, guide.id) == call.id
    assert live.current_call(session, other.id) is None
    stream = live.workspace_events(store, guide.id, heartbeat_s=0.3, max_s=2,
                                   on_call=lambda: live.current_call(session, guide.id))
    assert next(stream).endswith(f'event: screen_pop\ndata: {{"call_id": {call.id}}}\n\n')
    stream.close()
    # Ended, or answered so long ago that its end was lost: no call to pop.
    _apply(session, _lines("w.5", "SIP/4713", ended=True)[2:])
    assert live.current_call(session, guide.id) is None
    _apply(session, _lines("w.6", "SIP/4713"))
    session.execute(update(Call).where(Call.call_id == "w.6").values(
        answered_at=utcnow() - live.CURRENT_CALL_MAX_AGE - timedelta(minutes=1)))
    assert live.current_call(session, guide.id) is None
    stream = live.workspace_events(store, guide.id, heartbeat_s=0.3, max_s=2,
                                   on_call=lambda: live.current_call(session, guide.id))
    assert "screen_pop" not in next(stream)
    stream.close()


def test_the_screen_pop_shows_the_caller_and_their_visible_cases(session):
    guide, other = add_user(session), add_user(session)
    supervisor = add_user(session, role="supervisor")
    staff = add_user(session, role="department", department="stadsbyggnad")
    session.add(PbxAgent(agent_id="SIP/4713", user_id=guide.id))
    karin = Contact(name="Karin Ek", phone=CALLER)
    session.add(karin)
    session.commit()
    open_case = add_case(session, minutes_ago=5, contact_id=karin.id, status="open")
    forwarded = add_case(session, minutes_ago=50, contact_id=karin.id, status="forwarded")
    closed = add_case(session, minutes_ago=500, contact_id=karin.id, status="closed")
    session.commit()
    _apply(session, _lines("w.5", "SIP/4713"))
    _apply(session, _lines("w.6", "SIP/4713", caller=""))  # withheld
    call = session.scalar(select(Call).where(Call.call_id == "w.5"))
    hidden = session.scalar(select(Call).where(Call.call_id == "w.6"))

    pop = workspace.screen_pop(session, principal(guide), call.id)
    assert (pop.caller, pop.withheld, pop.contact.id) == (CALLER, False, karin.id)
    assert [c.id for c in pop.open_cases] == [open_case, forwarded]
    assert [c.id for c in pop.recent_cases] == [closed]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "call.screen_pop",
                                                    AuditEntry.entity_id == str(call.id)))
    assert entry.actor == f"user:{guide.id}" and CALLER not in json.dumps(entry.data)
    assert workspace.screen_pop(session, principal(supervisor), call.id).contact.id == karin.id

    withheld = workspace.screen_pop(session, principal(guide), hidden.id)
    assert (withheld.caller, withheld.withheld, withheld.contact) == ("withheld", True, None)
    assert withheld.open_cases == [] and withheld.recent_cases == []
    for actor, call_id in ((other, call.id), (staff, call.id), (guide, call.id + 10_000)):
        with pytest.raises(NotFound):
            workspace.screen_pop(session, principal(actor), call_id)


def _scrub(conn) -> None:
    users = f"(SELECT id FROM users WHERE email LIKE '%@{TEST_DOMAIN}')"
    for statement in (
            "DELETE FROM pbx_agents", f"DELETE FROM calls WHERE agent_user_id IN {users}",
            f"UPDATE cases SET assignee_id = NULL WHERE assignee_id IN {users}",
            f"DELETE FROM guide_profiles WHERE user_id IN {users}",
            f"DELETE FROM users WHERE email LIKE '%@{TEST_DOMAIN}'"):
        conn.execute(text(statement))


@pytest.fixture
def workspace_committed(committed, engine, store):
    """`committed`, removing this package's users and their calls after the workers stop."""
    from citizencenter.outbox import KICK_KEY

    store.delete(KICK_KEY)  # a kick a stopped worker took would mute kicks for a while
    yield committed
    committed.remove()
    with engine.begin() as conn:
        _scrub(conn)


def test_a_signed_call_event_pops_up_on_the_guides_channel_within_two_seconds(
        app, workspace_committed, store, start_celery):
    from citizencenter.integrations import service as integrations

    session = workspace_committed
    guide = add_user(session)
    session.add(PbxAgent(agent_id="PJSIP/anna", user_id=guide.id))
    _, token, secret = integrations.create_integration(
        session, "växeln (workspace)", ["calls:write"], app.config["SECRET_KEY"])
    session.commit()
    start_celery("worker")
    pubsub = store.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(live.user_channel(guide.id))
    now = utcnow()
    events = [{"event_id": f"{kind}-{time.monotonic_ns()}", "source": "pbx", "type": kind,
               "occurred_at": (now + timedelta(seconds=n)).isoformat(), "sequence": n,
               "call_id": "pop-1", "queue": "kontaktcenter",
               "agent": "PJSIP/anna" if kind == "call.answered" else None,
               "caller": CALLER, "metrics": {}}
              for n, kind in enumerate(("call.queued", "call.answered"))]
    started = time.monotonic()
    response = post_events(app.test_client(), (token, secret), events)
    assert response.status_code == 202, response.get_json()
    message = None
    while message is None and time.monotonic() - started < 5:
        message = pubsub.get_message(timeout=0.1)
    elapsed = time.monotonic() - started
    pubsub.close()
    assert message is not None, "no screen pop"
    call_id = db.session.scalar(select(Call.id).where(Call.call_id == "pop-1"))
    assert json.loads(message["data"]) == {"call_id": call_id}
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
