"""Guides as the pages see them (a principal per user) and cases placed where a test needs."""

import itertools
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import Role, User
from citizencenter.accounts.service import Principal
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.organisation.models import Department, Queue
from citizencenter.routing import presence
from citizencenter.sla.models import SlaPolicy, SlaTimer

TEST_DOMAIN = "workspace.test"
_numbers = itertools.count(1)


def principal(user: User) -> Principal:
    """The caller a signed-in user is, as a token of theirs makes them."""
    return Principal(actor=f"user:{user.id}", scopes=accounts.ROLE_SCOPES[user.role],
                     role=user.role, user_id=user.id, department_id=user.department_id)


def add_user(session, role: str = "guide", department: str | None = None,
             queues: list[str] | None = None, service_point_id: int | None = None) -> User:
    n = next(_numbers)
    user = accounts.create_user(session, f"user{n}@{TEST_DOMAIN}", f"Vägledare {n}", role,
                                department)
    if Role(role) in presence.ROUTABLE_ROLES:
        profile = presence.ensure_profile(session, user.id)
        profile.queue_ids = [queue_id(session, slug) for slug in queues or []]
        profile.service_point_id = service_point_id
    session.commit()
    return user


def queue_id(session, slug: str) -> int:
    return session.scalar(select(Queue.id).where(Queue.slug == slug))


def department_id(session, slug: str) -> int:
    return session.scalar(select(Department.id).where(Department.slug == slug))


def add_case(session, *, minutes_ago: float = 0, **fields) -> uuid.UUID:
    """A case row as routing left it (no events: the worklist reads rows only)."""
    n = next(_numbers)
    case_id = uuid.uuid4()
    session.execute(insert(Case), [{
        "id": case_id, "reference": f"MC-2001-{n:06d}", "channel": "email", "status": "open",
        "subject": f"Ärende {n}", "received_at": utcnow() - timedelta(minutes=minutes_ago),
        "updated_at": utcnow(), "required_skills": [], **fields}])
    return case_id


def add_timer(session, case_id: uuid.UUID, *, due_in_min: float, warn_in_min: float,
              status: str = "running", **fields) -> None:
    """A running SLA clock of the case, due and warning so many minutes from now."""
    policy = session.scalar(select(SlaPolicy).order_by(SlaPolicy.id).limit(1))
    now = utcnow()
    session.add(SlaTimer(case_id=case_id, policy_id=policy.id, metric=policy.metric,
                         target_value=1, target_unit="hours", target_s=3600,
                         warn_at_percent=80, status=status, started_at=now - timedelta(hours=1),
                         due_at=now + timedelta(minutes=due_in_min),
                         warn_at=now + timedelta(minutes=warn_in_min), **fields))
    session.flush()


@pytest.fixture
def paginator(app):
    return app.extensions["paginator"]
