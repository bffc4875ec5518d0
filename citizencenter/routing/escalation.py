"""Time-based escalation: a case waiting past its queue's timeout overflows or rises.

Deadlines live in `cases.escalate_at`; the beat scan moves what is due, so no task
ever waits in the broker with a long countdown.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases.enums import Priority
from citizencenter.cases.models import Case
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import InvalidInput, NotFound
from citizencenter.organisation.models import Queue
from citizencenter.organisation.service import by_slug
from citizencenter.routing import assignment, decisions
from citizencenter.routing.models import QueuePolicy

PRIORITIES = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


def _queue(session: Session, slug: str, field: str) -> Queue:
    return by_slug(session, Queue, slug, field, "queue")


def get_policy(session: Session, slug: str) -> tuple[Queue, QueuePolicy]:
    queue = session.scalar(select(Queue).where(Queue.slug == slug))
    if queue is None:
        raise NotFound("No such queue.")
    return queue, session.get(QueuePolicy, queue.id) or QueuePolicy(queue_id=queue.id)


def list_policies(session: Session) -> list[tuple[Queue, QueuePolicy]]:
    policies = {p.queue_id: p for p in session.scalars(select(QueuePolicy))}
    return [(q, policies.get(q.id) or QueuePolicy(queue_id=q.id))
            for q in session.scalars(select(Queue).order_by(Queue.id))]


def _snapshot(session: Session, policy: QueuePolicy) -> dict:
    """What the trail keeps of a queue's policy."""
    overflow = session.get(Queue, policy.overflow_queue_id) if policy.overflow_queue_id else None
    return {"timeout_s": policy.timeout_s, "overflow_queue": overflow.slug if overflow else None,
            "raise_priority": bool(policy.raise_priority)}


def set_policy(session: Session, actor: Principal, slug: str, data: dict
               ) -> tuple[Queue, QueuePolicy]:
    """Set a queue's timeout and what follows it; an overflow chain must not loop."""
    queue, policy = get_policy(session, slug)
    before = _snapshot(session, policy)
    overflow = data.get("overflow_queue")
    overflow_id = _queue(session, overflow, "overflow_queue").id if overflow else None
    if overflow_id is not None:
        if data.get("timeout_s") is None:
            raise InvalidInput("timeout_s", "An overflow queue needs a timeout.")
        nexts = {p.queue_id: p.overflow_queue_id for p in session.scalars(select(QueuePolicy))}
        nexts[queue.id] = overflow_id
        chain, current = [queue.id], overflow_id
        while current is not None:
            chain.append(current)
            if current == queue.id:
                names = dict(session.execute(select(Queue.id, Queue.slug)).all())
                raise InvalidInput("overflow_queue", "Overflow cycle: "
                                   + " → ".join(names[q] for q in chain) + ".")
            current = nexts.get(current)
            if current in chain[1:]:
                break  # a loop elsewhere cannot be ours; it was refused when it was made
    policy.timeout_s = data.get("timeout_s")
    policy.overflow_queue_id = overflow_id
    policy.raise_priority = data.get("raise_priority", False)
    session.add(policy)
    audit.record_changes(session, actor.actor, "queue_policy.changed", "queue", slug, before,
                         _snapshot(session, policy))
    session.commit()
    return queue, policy


def deadline(session: Session, queue_id: int | None, since: datetime,
             policies: dict[int, QueuePolicy] | None = None) -> datetime | None:
    """When a case entering this queue at `since` escalates, if ever (`policies`: every
    queue's, when the caller has them)."""
    if queue_id is None:
        return None
    policy = session.get(QueuePolicy, queue_id) if policies is None else policies.get(queue_id)
    if policy is None or not policy.timeout_s or not (
            policy.overflow_queue_id or policy.raise_priority):
        return None
    return since + timedelta(seconds=policy.timeout_s)


def _escalate(session: Session, case: Case, now: datetime) -> None:
    policy = session.get(QueuePolicy, case.queue_id)
    if policy is not None and policy.overflow_queue_id is not None:
        previous = case.queue_id
        case.queue_id = policy.overflow_queue_id
        case.escalate_at = deadline(session, case.queue_id, now)
        decisions.record(session, case, "escalated", "overflow", from_queue_id=previous)
    elif policy is not None and policy.raise_priority \
            and case.priority != Priority.URGENT:
        previous = case.priority
        case.priority = PRIORITIES[PRIORITIES.index(case.priority) + 1]
        case.escalate_at = None if case.priority == Priority.URGENT else \
            now + timedelta(seconds=policy.timeout_s)
        decisions.record(session, case, "escalated", "priority_raised",
                         from_priority=previous.value, to_priority=case.priority.value)
    else:
        case.escalate_at = None


def escalate_due(session: Session, batch: int = 200) -> int:
    """Move every case whose escalation time has come, and try to assign it again."""
    now = utcnow()
    query = (select(Case).options(lazyload("*"))
             .where(Case.escalate_at <= now, Case.assignee_id.is_(None),
                    Case.waiting_since.is_not(None), Case.status.in_(assignment.WAITING))
             .order_by(Case.escalate_at).limit(batch))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    cases = session.scalars(query).all()
    for case in cases:
        _escalate(session, case, now)
        assignment.try_assign(session, case)
    session.commit()
    return len(cases)


def scan(session: Session) -> dict[str, int]:
    """The periodic pass: escalate what is due, then let free guides pull what waits."""
    return {"escalated": escalate_due(session),
            "pulled": assignment.pull_for_available(session)}
