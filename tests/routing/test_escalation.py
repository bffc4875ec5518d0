"""Waiting too long: overflow to the next queue or a higher priority, recorded on the case."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel, Priority
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.organisation.models import Queue
from citizencenter.routing import escalation
from citizencenter.routing.models import GuideProfile, Presence
from citizencenter.routing.service import route_case
from tests.factories import bearer


@pytest.fixture(autouse=True)
def nobody_free(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def _waiting_call(session) -> Case:
    case = cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Ring upp",
                           description="")
    route_case(session, case.id)
    session.refresh(case)
    return case


def _time_passes(session, case, seconds):
    session.execute(update(Case).where(Case.id == case.id)
                    .values(escalate_at=utcnow() - timedelta(seconds=seconds)))
    session.commit()


def test_overflow_moves_the_case_and_a_guide_of_that_queue_takes_it(client, tokens, session,
                                                                     guide):
    auth = bearer(tokens["supervisor"])
    client.put("/api/v1/routing/queues/kontaktcenter", headers=auth,
               json={"timeout_s": 60, "overflow_queue": "besok"})
    case = _waiting_call(session)
    assert case.queue.slug == "kontaktcenter" and case.assignee_id is None
    assert case.escalate_at is not None and case.escalate_at > utcnow()
    assert escalation.escalate_due(session) == 0  # not yet
    besok = session.query(Queue).filter_by(slug="besok").one()
    walk_in_guide = guide(queues=[besok.id])
    _time_passes(session, case, 1)
    assert escalation.escalate_due(session) == 1
    session.refresh(case)
    assert case.queue_id == besok.id and case.assignee_id == walk_in_guide.user_id
    history = client.get(f"/api/v1/cases/{case.id}/routing", headers=auth).get_json()["items"]
    assert [(d["kind"], d["reason"]) for d in history] == [
        ("routed", "channel_default"), ("waiting", "no_guide_free"),
        ("escalated", "overflow"), ("assigned", "longest_idle")]
    assert history[-1]["chosen_user_id"] == walk_in_guide.user_id
    assert all("candidates" in d for d in history)


def test_priority_rises_step_by_step_until_urgent(client, tokens, session):
    client.put("/api/v1/routing/queues/kontaktcenter", headers=bearer(tokens["admin"]),
               json={"timeout_s": 30, "raise_priority": True})
    case = _waiting_call(session)
    seen = []
    for _ in range(3):
        _time_passes(session, case, 1)
        escalation.escalate_due(session)
        session.refresh(case)
        seen.append(case.priority)
    assert seen == [Priority.HIGH, Priority.URGENT, Priority.URGENT]
    assert case.escalate_at is None and case.queue.slug == "kontaktcenter"


def test_routing_history_is_only_for_those_who_may_see_the_case(client, tokens, session):
    case = _waiting_call(session)
    assert client.get(f"/api/v1/cases/{case.id}/routing",
                      headers=bearer(tokens["department"])).status_code == 404
    bad = client.get(f"/api/v1/cases/{case.id}/routing?limit=0",
                     headers=bearer(tokens["guide"]))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "limit"
