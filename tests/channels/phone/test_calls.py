"""Call state from events: order, duplicates, adapters, and the cases calls open."""

import itertools
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from citizencenter.accounts.models import User
from citizencenter.cases.enums import CaseKind
from citizencenter.cases.models import Case, Message
from citizencenter.channels.phone import asterisk, service
from citizencenter.channels.phone.models import Call, CallEvent, CallOutcome
from tests.channels.phone.helpers import CallSpec, apply_and_link, at, post_queue_log


def _ingest_lines(session, lines):
    events, rejected = asterisk.parse_lines("\n".join(lines))
    assert rejected == []
    result = service.ingest(session, events)
    ids = session.scalars(select(CallEvent.id)).all()
    apply_and_link(session, ids)
    return result


def _call(session, call_id) -> Call:
    session.expire_all()
    return session.scalar(select(Call).where(Call.call_id == call_id))


def _state(call: Call) -> tuple:
    return (call.outcome, call.entered_at, call.answered_at, call.finished_at, call.wait_s,
            call.talk_s, call.agent, call.transferred, call.ring_no_answer_count, call.caller)


def test_every_arrival_order_gives_the_same_call(session):
    spec = CallSpec("1764662400.10", at(9), "answered", wait=42, talk=185, transfer=True,
                    ring_no_answer=2)
    lines = spec.lines()
    states = set()
    for order in itertools.islice(itertools.permutations(lines), 0, 120, 7):
        for call in session.scalars(select(Call)):
            session.delete(call)
        for ev in session.scalars(select(CallEvent)):
            session.delete(ev)
        session.flush()
        # Each arrives in its own delivery, in this order, some of them twice.
        for line in list(order) + list(order[:2]):
            events, _ = asterisk.parse_lines(line)
            service.ingest(session, events)
            apply_and_link(session, session.scalars(select(CallEvent.id)).all())
        states.add(_state(_call(session, spec.call_id)))
    assert len(states) == 1
    outcome, entered, answered, finished, wait, talk, agent, transferred, rna, caller = \
        states.pop()
    assert outcome == CallOutcome.ANSWERED and transferred is True
    assert (answered - entered) == timedelta(seconds=42) and wait == 42 and talk == 185
    assert finished == answered + timedelta(seconds=185)
    assert agent == "SIP/8007" and rna == 2 and caller == "+46701234567"


def test_a_late_end_fills_in_talk_time(session):
    spec = CallSpec("late.1", at(10), "answered", wait=10, talk=300)
    enter, connect, complete = spec.lines()
    _ingest_lines(session, [enter, connect])
    call = _call(session, "late.1")
    assert call.outcome == CallOutcome.ANSWERED and call.talk_s is None
    _ingest_lines(session, [complete])
    assert _call(session, "late.1").talk_s == 300


def test_an_older_event_never_overwrites_newer_state(session):
    spec = CallSpec("old.1", at(11), "answered", wait=30, talk=60)
    enter, connect, complete = spec.lines()
    _ingest_lines(session, [connect, complete])
    _ingest_lines(session, [enter])  # arrives last, happened first
    call = _call(session, "old.1")
    assert call.outcome == CallOutcome.ANSWERED and call.finished_at is not None
    assert call.entered_at == at(11)


@pytest.mark.parametrize(("outcome", "expected", "reason"), [
    ("abandoned", CallOutcome.ABANDONED, None), ("timeout", CallOutcome.EXITED, "timeout"),
    ("empty", CallOutcome.EXITED, "empty"), ("key", CallOutcome.EXITED, "key"),
])
def test_unanswered_outcomes(session, outcome, expected, reason):
    spec = CallSpec(f"un.{outcome}", at(12), outcome, wait=75, caller="anonymous")
    _ingest_lines(session, spec.lines())
    call = _call(session, spec.call_id)
    assert (call.outcome, call.exit_reason, call.wait_s) == (expected, reason, 75)


def test_asterisk_lines_unknown_and_malformed(client, session, phone_integration):
    lines = [
        "1764662400|1764662400.5|kontaktcenter|NONE|ENTERQUEUE||0461234567|1",
        "1764662401|NONE|NONE|SIP/8007|AGENTLOGIN|SIP/8007",
        "1764662402|1764662400.5|kontaktcenter|SIP/8007|RINGCANCELED|3000",
        "not a line",
        "abc|1764662400.5|kontaktcenter|NONE|ABANDON|1|1|4",
        "1764662403|1764662400.5|kontaktcenter|NONE|ABANDON|1|1|minus",
        "1764662403|1764662400.5|kontaktcenter|NONE|ABANDON|1",
    ]
    response = post_queue_log(client, phone_integration, lines)
    assert response.status_code == 202
    body = response.get_json()
    assert body["accepted"] == 3
    assert [r["line"] for r in body["rejected"]] == [4, 5, 6, 7]
    kinds = session.scalars(select(CallEvent.type).order_by(CallEvent.id)).all()
    assert [k.value for k in kinds] == ["call.queued", "ignored", "ignored"]
    raw = session.scalars(select(CallEvent.raw).order_by(CallEvent.id)).all()
    assert raw[1] == lines[1]  # unknown events are kept as they came
    only_bad = post_queue_log(client, phone_integration, ["x|y", "1|2|3"])
    assert only_bad.status_code == 422
    assert only_bad.content_type == "application/problem+json"
    again = post_queue_log(client, phone_integration, lines[:3])
    assert again.status_code == 200 and again.get_json()["duplicates"] == 3


def test_answered_call_opens_then_joins_the_callers_case(session):
    anna = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    service.map_agent(session, "SIP/8007", anna.email)
    first = CallSpec("j.1", at(9), "answered", wait=20, talk=90, caller="070-555 12 12")
    second = CallSpec("j.2", at(14), "answered", wait=20, talk=90, caller="070-555 12 12")
    _ingest_lines(session, first.lines())
    case = session.get(Case, _call(session, "j.1").case_id)
    assert case.channel == "phone" and case.contact.phone == "+46705551212"
    assert case.assignee_id == anna.id and case.status == "open"
    assert _call(session, "j.1").agent_user_id == anna.id
    _ingest_lines(session, second.lines())
    assert _call(session, "j.2").case_id == case.id
    bodies = session.scalars(select(Message.channel_metadata).where(
        Message.case_id == case.id)).all()
    assert [b["call_id"] for b in bodies] == ["j.1", "j.2"]
    # Applying the same events again creates nothing new.
    apply_and_link(session, session.scalars(select(CallEvent.id)).all())
    assert session.scalars(select(Message).where(Message.case_id == case.id)).all().__len__() == 2


def test_missed_calls_become_one_callback_case(session):
    missed = CallSpec("m.1", at(16, 30), "abandoned", wait=40, caller="0709998877")
    again = CallSpec("m.2", at(16, 45), "abandoned", wait=50, caller="0709998877")
    short = CallSpec("m.3", at(16, 50), "abandoned", wait=5, caller="0701112233")
    withheld = CallSpec("m.4", at(16, 55), "abandoned", wait=90, caller="anonymous")
    for spec in (missed, again, short, withheld):
        _ingest_lines(session, spec.lines())
    callback = session.get(Case, _call(session, "m.1").callback_case_id)
    assert callback.kind == CaseKind.CALLBACK and callback.subject == "Ring upp"
    assert _call(session, "m.2").callback_case_id == callback.id
    assert _call(session, "m.3").callback_case_id is None
    assert _call(session, "m.4").callback_case_id is None
    # Given up at 16:30:40 on a Wednesday: two working hours end at 09:30:40 on Thursday.
    assert callback.due_at == at(9, 30, 40, day=19)


def test_callback_requested_event(client, session, phone_integration):
    from tests.channels.phone.helpers import post_events
    from tests.channels.phone.test_webhook import event
    post_events(client, phone_integration, [
        event(1, call_id="cb", type="call.queued", caller="+46701231231"),
        event(2, call_id="cb", type="callback.requested",
              occurred_at="2026-11-18T09:01:00+01:00"),
        event(3, call_id="cb", type="call.exited", metrics={"reason": "key", "wait_s": 60},
              occurred_at="2026-11-18T09:01:00+01:00"),
    ])
    apply_and_link(session, session.scalars(select(CallEvent.id)).all())
    call = _call(session, "cb")
    assert call.callback_requested and call.outcome == CallOutcome.EXITED
    assert session.get(Case, call.callback_case_id).kind == CaseKind.CALLBACK


def test_random_interleaving_of_many_calls_converges(session):
    specs = [CallSpec(f"r.{n}", at(9, n), random.Random(n).choice(
        ["answered", "abandoned", "timeout"]), wait=10 + n, talk=100) for n in range(20)]
    lines = [line for spec in specs for line in spec.lines()]
    random.Random(7).shuffle(lines)
    for chunk in range(0, len(lines), 9):
        _ingest_lines(session, lines[chunk:chunk + 9])
    for spec in specs:
        assert _call(session, spec.call_id).wait_s == spec.wait


def test_pending_events_are_applied_in_batches_whatever_the_deliveries(session):
    specs = [CallSpec(f"p.{n}", at(10, n), "answered", wait=20 + n, talk=90,
                      caller=f"07011100{n:02d}") for n in range(12)]
    lines = [line for spec in specs for line in spec.lines()]
    random.Random(3).shuffle(lines)
    for line in lines:  # one delivery per line, as a slow follower would send them
        events, _ = asterisk.parse_lines(line)
        service.ingest(session, events)
    assert service.apply_pending(session, batch=7) == len(lines)
    assert service.apply_pending(session, batch=7) == 0  # nothing is taken twice
    assert session.scalar(select(CallEvent.id).where(CallEvent.applied_at.is_(None))) is None
    for spec in specs:
        call = _call(session, spec.call_id)
        assert call.outcome == CallOutcome.ANSWERED and call.wait_s == spec.wait
        assert call.talk_s == spec.talk
