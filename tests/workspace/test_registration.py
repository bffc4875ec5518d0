"""Registering a call or a visit just handled: one commit, counted in the figures."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import CaseStatus, Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.phone import callers
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.config import local_zone
from citizencenter.db import utcnow
from citizencenter.errors import Forbidden, InvalidInput, NotFound
from citizencenter.organisation.models import ServicePoint
from citizencenter.reports.telephony import telephony_report
from citizencenter.workspace.registration import register_contact
from tests.workspace.conftest import add_case, add_user, principal


@pytest.fixture
def commits(session):
    """How many times the session committed."""
    counted = []
    listener = lambda _session: counted.append(1)  # noqa: E731
    event.listen(session.registry(), "after_commit", listener)
    yield counted
    event.remove(session.registry(), "after_commit", listener)


def _answered_call(session, agent_user_id: int, *, caller: str | None = "+46701234567",
                   wait_s: float = 30) -> Call:
    entered = utcnow() - timedelta(minutes=5)
    call = Call(source="asterisk", call_id=f"c.{time.monotonic_ns()}", queue="kontaktcenter",
                caller=caller, agent="SIP/8007", agent_user_id=agent_user_id,
                outcome=CallOutcome.ANSWERED, entered_at=entered,
                answered_at=entered + timedelta(seconds=wait_s), wait_s=wait_s,
                last_event_at=entered + timedelta(seconds=wait_s),
                local_date=entered.astimezone(local_zone()).date(),
                local_hour=entered.astimezone(local_zone()).hour)
    session.add(call)
    session.commit()
    return call


def _audit(session, case_id, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.entity_id == str(case_id), AuditEntry.action == action)))


def test_a_call_settled_at_once_is_a_closed_case_in_one_commit(session, commits):
    guide = add_user(session)
    # The first use case of a test run compiles its statements; a guide's day does not.
    register_contact(session, principal(guide), channel="phone", category=None,
                     subject="Uppvärmning", resolved_first_contact=True)
    commits.clear()
    started = time.monotonic()
    case = register_contact(
        session, principal(guide), channel="phone", category="avfall",
        subject="Hämtning av grovsopor", description="Fick tider för grovsopor.",
        resolved_first_contact=True, contact={"name": "Karin Ek", "phone": "+46701234567"})
    assert time.monotonic() - started < 1.0
    assert len(commits) == 1
    assert case.channel == Channel.PHONE and case.status == CaseStatus.CLOSED
    assert case.resolved_at_first_contact and case.assignee_id == guide.id
    assert case.first_response_at is not None and case.resolved_at is not None
    assert case.contact.phone == "+46701234567" and case.category.slug == "avfall"
    entry, = _audit(session, case.id, "contact.registered")
    assert entry.actor == f"user:{guide.id}"
    assert entry.data == {"channel": "phone", "call_id": None, "resolved_first_contact": True}
    assert "0701234567" not in str(entry.data) and "+46701234567" not in str(entry.data)


def test_a_call_left_open_stays_with_the_guide(session, commits):
    guide = add_user(session)
    commits.clear()
    case = register_contact(session, principal(guide), channel="phone", category=None,
                            subject="Fråga om bygglov", description="Ringer tillbaka.",
                            resolved_first_contact=False)
    assert len(commits) == 1
    assert case.status == CaseStatus.OPEN and case.assignee_id == guide.id
    assert not case.resolved_at_first_contact and case.contact is None


def test_a_registered_call_becomes_the_calls_case_and_a_direct_answer(session, commits):
    guide = add_user(session)
    call = _answered_call(session, guide.id)
    commits.clear()
    case = register_contact(session, principal(guide), channel="phone", category="ovrigt",
                            subject="Öppettider", description="", resolved_first_contact=True,
                            call_id=call.id)
    assert len(commits) == 1
    assert call.case_id == case.id and case.contact.phone == call.caller
    assert case.received_at == call.entered_at and case.first_response_at == call.answered_at
    assert _audit(session, case.id, "contact.registered")[0].data["call_id"] == call.id
    # The phone channel links no second case to the call.
    assert callers.link_calls(session, [call.id]) == 0
    assert session.scalar(select(func.count()).select_from(Case)
                          .where(Case.contact_id == case.contact_id)) == 1
    # Answered within 120 s, resolved at first contact, not transferred: a direct answer.
    report = telephony_report(session, call.entered_at - timedelta(minutes=1),
                              call.entered_at + timedelta(minutes=1))
    assert report["totals"]["offered"] == 1 and report["totals"]["direct_answer_rate"] == 1


def test_a_call_whose_case_the_phone_channel_opened_completes_that_case(session, commits):
    guide = add_user(session)
    call = _answered_call(session, guide.id, caller="+46709998877")
    assert callers.link_calls(session, [call.id]) == 1
    opened = session.get(Case, call.case_id)
    assert opened.status == CaseStatus.OPEN and opened.assignee_id == guide.id
    commits.clear()
    case = register_contact(session, principal(guide), channel="phone",
                            category="gator-trafik", subject="Parkering vid skolan",
                            description="Hänvisade till p-tillstånd.",
                            resolved_first_contact=True, call_id=call.id)
    assert len(commits) == 1
    assert case.id == opened.id and case.status == CaseStatus.RESOLVED
    assert case.resolved_at_first_contact and case.subject == "Parkering vid skolan"
    assert case.category.slug == "gator-trafik"
    note = session.scalar(select(Message).where(Message.case_id == case.id,
                                                Message.direction == Direction.INTERNAL))
    assert note.body == "Hänvisade till p-tillstånd." and note.author_id == guide.id


def test_a_call_that_joined_the_callers_open_case_keeps_that_cases_subject(session):
    guide = add_user(session)
    first = _answered_call(session, guide.id, caller="+46709998866")
    assert callers.link_calls(session, [first.id]) == 1
    earlier = register_contact(session, principal(guide), channel="phone",
                               category="bygglov", subject="Bygglov för altan",
                               resolved_first_contact=False, call_id=first.id)
    again = _answered_call(session, guide.id, caller="+46709998866")
    assert callers.link_calls(session, [again.id]) == 1
    assert again.case_id == earlier.id  # the phone channel joined the open inquiry
    case = register_contact(session, principal(guide), channel="phone",
                            category="gator-trafik", subject="Parkering vid skolan",
                            description="Hänvisade till p-tillstånd.",
                            resolved_first_contact=False, call_id=again.id)
    assert case.id == earlier.id
    assert case.subject == "Bygglov för altan" and case.category.slug == "bygglov"
    notes = session.scalars(select(Message.body).where(
        Message.case_id == case.id, Message.direction == Direction.INTERNAL)
        .order_by(Message.id)).all()
    assert notes[-1] == "Samtal: Parkering vid skolan\nHänvisade till p-tillstånd."


def test_only_the_guide_who_answered_registers_the_call(session):
    guide, other = add_user(session), add_user(session)
    call = _answered_call(session, guide.id)
    with pytest.raises(NotFound):
        register_contact(session, principal(other), channel="phone", category=None,
                         subject="x", resolved_first_contact=True, call_id=call.id)
    with pytest.raises(NotFound):
        register_contact(session, principal(guide), channel="phone", category=None,
                         subject="x", resolved_first_contact=True, call_id=call.id + 10_000)
    assert call.case_id is None


def test_bad_registrations_change_nothing(session):
    guide = add_user(session)
    staff = add_user(session, role="department", department="stadsbyggnad")
    before = session.scalar(select(func.count()).select_from(Case))
    for actor, fields, error in (
            (guide, {"channel": "email"}, InvalidInput),
            (staff, {"channel": "phone"}, Forbidden),
            (guide, {"channel": "phone", "category": "astrologi"}, InvalidInput),
            (guide, {"channel": "walk_in"}, InvalidInput),  # no service point known
            (guide, {"channel": "walk_in", "call_id": 1}, InvalidInput)):
        with pytest.raises(error):
            register_contact(session, principal(actor), **{
                "category": None, "subject": "Fråga", "resolved_first_contact": True,
                **fields})
        session.rollback()
    assert session.scalar(select(func.count()).select_from(Case)) == before


def test_a_visit_is_registered_at_the_guides_service_point(session, commits):
    point = session.scalar(select(ServicePoint).where(ServicePoint.slug == "dalby"))
    guide = add_user(session, service_point_id=point.id)
    commits.clear()
    case = register_contact(session, principal(guide), channel="walk_in", category="ovrigt",
                            subject="Hjälp med blankett", description="",
                            resolved_first_contact=True)
    assert len(commits) == 1
    assert case.channel == Channel.WALK_IN and case.service_point_id == point.id
    assert case.status == CaseStatus.CLOSED and case.resolved_at_first_contact
    assert _audit(session, case.id, "case.created")[0].actor == f"user:{guide.id}"
    other = register_contact(session, principal(guide), channel="walkin", category=None,
                             subject="Bostadsfråga", resolved_first_contact=False,
                             service_point="kristallen")
    assert other.status == CaseStatus.NEW and other.service_point.slug == "kristallen"



def test_a_call_the_phone_channel_linked_meanwhile_is_completed_not_doubled(session):
    guide = add_user(session)
    call = _answered_call(session, guide.id, caller="+46705554433")
    session.refresh(call)  # as a page that showed the call holds it
    linked = add_case(session, channel="phone", assignee_id=guide.id)
    # Linked by a worker's transaction: this session's copy of the call does not know it.
    session.execute(update(Call).where(Call.id == call.id).values(case_id=linked)
                    .execution_options(synchronize_session=False))
    session.commit()
    case = register_contact(session, principal(guide), channel="phone", category=None,
                            subject="Fråga", resolved_first_contact=True, call_id=call.id)
    assert case.id == linked and case.status == CaseStatus.RESOLVED
