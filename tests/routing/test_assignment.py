"""Assignment in one process: skills, capacity, longest idle, stickiness and the queue."""

from datetime import timedelta

from sqlalchemy import select, update

from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel, Direction, Priority
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import assignment, presence
from citizencenter.routing.models import GuideProfile, Presence, RoutingDecision
from citizencenter.routing.service import route_case
from tests.factories import bearer

SV = "Hej, jag har en fråga om min ansökan och vill veta hur det går."


def _offline_everyone(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def _case(session, channel=Channel.EMAIL, contact=None, priority=Priority.NORMAL,
          received_at=None, description=SV, subject="Fråga"):
    case = cases.open_case(session, SYSTEM, channel=channel, subject=subject,
                           description=description, contact=contact, priority=priority,
                           received_at=received_at)
    route_case(session, case.id)
    session.refresh(case)
    return case


def test_longest_idle_guide_with_room_gets_the_case(session, guide):
    _offline_everyone(session)
    recent = guide(idle_for_s=10)
    longest = guide(idle_for_s=300)
    middle = guide(idle_for_s=100)
    first, second, third, fourth = (_case(session) for _ in range(4))
    assert [c.assignee_id for c in (first, second, third)] == \
        [longest.user_id, middle.user_id, recent.user_id]
    assert fourth.assignee_id == longest.user_id  # idle longest again since its assignment
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.case_id == first.id, RoutingDecision.kind == "assigned"))
    assert decision.reason == "longest_idle" and decision.chosen_user_id == longest.user_id
    assert [c["user_id"] for c in decision.candidates][:3] == \
        [longest.user_id, middle.user_id, recent.user_id]


def test_capacity_per_channel_is_never_exceeded_and_then_cases_wait(session, guide):
    _offline_everyone(session)
    only = guide(capacities={"email": 2, "phone": 1})
    taken = [_case(session) for _ in range(3)]
    assert [c.assignee_id for c in taken] == [only.user_id, only.user_id, None]
    assert taken[2].waiting_since is not None
    call = _case(session, channel=Channel.PHONE)  # another channel has its own capacity
    assert call.assignee_id == only.user_id
    assert assignment.loads(session, [only.user_id])[only.user_id] == {"email": 2, "phone": 1}
    waiting = session.scalar(select(RoutingDecision).where(
        RoutingDecision.case_id == taken[2].id, RoutingDecision.kind == "waiting"))
    assert waiting.reason == "no_guide_free"
    assert waiting.candidates == [{"user_id": only.user_id, "fit": "at_capacity",
                                   "idle_since": waiting.candidates[0]["idle_since"]}]


def test_skills_decide_who_may_take_a_case(session, guide):
    _offline_everyone(session)
    swedish = guide(idle_for_s=500, skills={"languages": ["sv"]})
    english = guide(idle_for_s=10, skills={"languages": ["sv", "en"]})
    no_social = guide(idle_for_s=900, skills={"channels": ["email"]})
    case = _case(session, description="Hello, how can I apply for the permit? Please help.")
    assert case.language == "en" and case.assignee_id == english.user_id
    social = _case(session, channel=Channel.SOCIAL)
    assert social.assignee_id == swedish.user_id  # no_social idles longer but lacks the channel
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.case_id == social.id, RoutingDecision.kind == "assigned"))
    fits = {c["user_id"]: c["fit"] for c in decision.candidates}
    assert fits[no_social.user_id] == "missing:channel:social"


def test_sticky_to_the_citizens_last_guide_within_the_window(session, guide):
    _offline_everyone(session)
    karin = {"name": "Karin Ek", "email": "karin.sticky@example.se"}
    first_guide = guide(idle_for_s=1000)
    other = guide(idle_for_s=500)
    first = _case(session, contact=karin)
    assert first.assignee_id == first_guide.user_id
    again = _case(session, contact=karin)
    assert again.assignee_id == first_guide.user_id  # other idles longer now, yet sticky wins
    assert session.scalar(select(RoutingDecision.reason).where(
        RoutingDecision.case_id == again.id, RoutingDecision.kind == "assigned")) == "sticky"
    # Outside the window the longest idle guide takes it.
    session.execute(update(Case).where(Case.contact_id == first.contact_id)
                    .values(received_at=utcnow() - timedelta(days=30)))
    session.commit()
    later = _case(session, contact=karin)
    assert later.assignee_id == other.user_id


def test_sticky_guide_away_means_the_next_best(session, guide):
    _offline_everyone(session)
    contact = {"email": "away.sticky@example.se"}
    favourite = guide(idle_for_s=1000)
    stand_in = guide(idle_for_s=10)
    _case(session, contact=contact)
    favourite.presence = Presence.AWAY
    session.commit()
    assert _case(session, contact=contact).assignee_id == stand_in.user_id


def test_waiting_cases_go_by_priority_then_age_when_a_guide_comes(session, guide, client,
                                                                    tokens):
    _offline_everyone(session)
    now = utcnow()
    old = _case(session, received_at=now - timedelta(minutes=30))
    urgent = _case(session, received_at=now - timedelta(minutes=1), priority=Priority.URGENT)
    older = _case(session, received_at=now - timedelta(minutes=50))
    assert {old.assignee_id, urgent.assignee_id, older.assignee_id} == {None}
    newcomer = guide(presence="offline", capacities={"email": 2})
    presence.set_presence(session, SYSTEM, newcomer.user_id, Presence.AVAILABLE)
    assert session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == "routing.guide_available").order_by(OutboxMessage.id.desc())
    ).payload == {"user_id": newcomer.user_id}
    assert assignment.pull_for_guide(session, newcomer.user_id) == 2  # fills the capacity
    session.expire_all()
    assert session.get(Case, urgent.id).assignee_id == newcomer.user_id
    assert session.get(Case, older.id).assignee_id == newcomer.user_id
    assert session.get(Case, old.id).assignee_id is None
    # Resolving one frees room; the hook asks routing to pull the next.
    response = client.patch(f"/api/v1/cases/{urgent.id}", json={"status": "resolved"},
                            headers={**bearer(tokens["admin"]),
                                     "If-Match": f'"{session.get(Case, urgent.id).version}"'})
    assert response.status_code == 200, response.get_json()
    freed = session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == "routing.capacity_freed").order_by(OutboxMessage.id.desc()))
    assert freed.payload == {"user_id": newcomer.user_id}
    assert assignment.pull_for_guide(session, newcomer.user_id) == 1
    session.expire_all()
    assert session.get(Case, old.id).assignee_id == newcomer.user_id


def test_a_case_taken_from_its_guide_waits_in_its_queue_again(session, guide, client,
                                                               tokens):
    _offline_everyone(session)
    first = guide(idle_for_s=100)
    case = _case(session)
    assert case.assignee_id == first.user_id and case.waiting_since is None
    response = client.patch(f"/api/v1/cases/{case.id}", json={"assignee": None},
                            headers={**bearer(tokens["supervisor"]),
                                     "If-Match": f'"{case.version}"'})
    assert response.status_code == 200, response.get_json()
    session.expire_all()
    case = session.get(Case, case.id)
    assert assignment.is_waiting(case)  # in the queue's list and the header's count
    assert session.scalar(select(OutboxMessage).where(
        OutboxMessage.topic == "routing.case_waiting").order_by(OutboxMessage.id.desc())
    ).payload == {"case_id": str(case.id)}
    assert assignment.assign_waiting(session, case.id).assigned_to is not None


def _disable(client, tokens, user_id: int) -> None:
    """An administrator disables the user, as when a guide leaves."""
    response = client.patch(f"/api/v1/users/{user_id}", json={"active": False},
                            headers=bearer(tokens["admin"]))
    assert response.status_code == 200, response.get_json()


def test_a_guide_who_leaves_hands_back_their_open_cases(session, guide, client, tokens):
    _offline_everyone(session)
    leaving = guide(capacities={"email": 5})
    open_case, done = _case(session), _case(session)
    assert open_case.assignee_id == done.assignee_id == leaving.user_id
    done.status = CaseStatus.RESOLVED
    session.commit()
    _disable(client, tokens, leaving.user_id)
    session.expire_all()
    released = session.get(Case, open_case.id)
    assert released.assignee_id is None and assignment.is_waiting(released)
    assert session.get(Case, done.id).assignee_id == leaving.user_id  # their record stays
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.case_id == open_case.id, RoutingDecision.kind == "released"))
    assert decision.reason == "user_cannot_take_work" and decision.actor.startswith("token:")
    successor = guide(presence="offline")
    presence.set_presence(session, SYSTEM, successor.user_id, Presence.AVAILABLE)
    assert assignment.pull_for_guide(session, successor.user_id) == 1
    session.expire_all()
    assert session.get(Case, open_case.id).assignee_id == successor.user_id


def test_a_case_reopened_after_its_guide_left_waits_in_its_queue(session, guide, client,
                                                                  tokens):
    _offline_everyone(session)
    leaving = guide(capacities={"email": 5})
    left_behind = _case(session)
    assert left_behind.assignee_id == leaving.user_id
    left_behind.status = CaseStatus.RESOLVED
    session.commit()
    _disable(client, tokens, leaving.user_id)
    staying = guide(capacities={"email": 5})
    kept = _case(session)
    assert kept.assignee_id == staying.user_id
    kept.status = CaseStatus.RESOLVED
    session.commit()
    for case in (left_behind, kept):  # the citizens write again
        cases.add_message(session, SYSTEM, case.id, direction=Direction.INBOUND, body="Hej igen!")
    session.expire_all()
    reopened = session.get(Case, left_behind.id)
    assert reopened.status == CaseStatus.OPEN and reopened.assignee_id is None
    assert assignment.is_waiting(reopened)
    assert session.scalar(select(RoutingDecision.reason).where(
        RoutingDecision.case_id == left_behind.id, RoutingDecision.kind == "released"
    )) == "user_cannot_take_work"
    assert session.get(Case, kept.id).assignee_id == staying.user_id  # back to its guide


def test_a_supervisor_hands_back_the_cases_of_a_guide_who_went_home(session, guide, client,
                                                                   tokens):
    _offline_everyone(session)
    ill = guide(capacities={"email": 5})
    waiting_reply, open_case, done = _case(session), _case(session), _case(session)
    assert {c.assignee_id for c in (waiting_reply, open_case, done)} == {ill.user_id}
    waiting_reply.status, done.status = CaseStatus.WAITING_ON_CITIZEN, CaseStatus.RESOLVED
    session.commit()
    versions = {c.id: c.version for c in (waiting_reply, open_case)}
    path = f"/api/v1/routing/guides/{ill.user_id}/hand-back"
    for role in ("guide", "department"):  # a guide may not empty a colleague's list
        assert client.post(path, headers=bearer(tokens[role])).status_code == 403
    session.expire_all()
    assert session.get(GuideProfile, ill.user_id).presence == Presence.AVAILABLE
    response = client.post(path, headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["handed_back"] == 2 and body["guide"]["presence"] == "offline"
    session.expire_all()
    queued = session.get(Case, open_case.id)
    assert queued.assignee_id is None and assignment.is_waiting(queued)
    # Waiting on the citizen: no guide's list, and not waiting in the queue until they answer.
    parked = session.get(Case, waiting_reply.id)
    assert parked.assignee_id is None and not assignment.is_waiting(parked)
    assert session.get(Case, done.id).assignee_id == ill.user_id  # their record stays
    for case_id, version in versions.items():  # old ETags no longer match
        assert session.get(Case, case_id).version > version
    assert set(session.scalars(select(RoutingDecision.reason).where(
        RoutingDecision.case_id.in_(list(versions)), RoutingDecision.kind == "released"
    ))) == {"handed_back"}
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == str(ill.user_id))).all()
    assert {"guide.presence_changed", "guide.cases_handed_back"} <= set(actions)
    again = client.post(path, headers=bearer(tokens["supervisor"]))
    assert again.status_code == 200 and again.get_json()["handed_back"] == 0
    cases.add_message(session, SYSTEM, waiting_reply.id, direction=Direction.INBOUND,
                      body="Här är papperen.")
    session.expire_all()
    answered = session.get(Case, waiting_reply.id)  # the citizen's answer waits in the queue
    assert answered.status == CaseStatus.OPEN and assignment.is_waiting(answered)
    successor = guide(presence="offline", capacities={"email": 5})
    presence.set_presence(session, SYSTEM, successor.user_id, Presence.AVAILABLE)
    assert assignment.pull_for_guide(session, successor.user_id) == 2
    assert client.post("/api/v1/routing/guides/999999/hand-back",
                       headers=bearer(tokens["supervisor"])).status_code == 404


def test_a_resolved_case_is_not_pulled(session, guide):
    _offline_everyone(session)
    case = _case(session)
    case.status = CaseStatus.RESOLVED
    session.commit()
    late = guide(presence="available")
    assert assignment.pull_for_guide(session, late.user_id) == 0


def test_guides_claim_the_next_case_themselves(session, client, tokens, guide):
    _offline_everyone(session)
    from citizencenter.accounts.models import User
    anna = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    case = _case(session)
    assert case.assignee_id is None
    response = client.post("/api/v1/routing/claim", headers=bearer(tokens["guide"]))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["case"]["id"] == str(case.id)
    assert response.get_json()["case"]["assignee"]["id"] == anna.id
    again = client.post("/api/v1/routing/claim", headers=bearer(tokens["guide"]))
    assert again.status_code == 200 and again.get_json() == {"case": None}
    integration = client.post("/api/v1/routing/claim", headers=bearer(tokens["integration"]))
    assert integration.status_code == 403
