"""Deciding where a case goes: rules first, then the channel's default queue, then a guide."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, insert, select, true, union, update
from sqlalchemy.orm import Session, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from citizencenter import outbox, reference_cache
from citizencenter.accounts.models import Department, User
from citizencenter.accounts.service import SYSTEM
from citizencenter.audit import service as audit
from citizencenter.cases import events
from citizencenter.cases.enums import CaseStatus, Channel, Direction, Priority
from citizencenter.cases.models import Case, Message
from citizencenter.channels.phone.models import PbxAgent
from citizencenter.contacts import service as contacts_service
from citizencenter.contacts.models import Contact
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import InvalidInput
from citizencenter.organisation.models import ChannelDefaultQueue, Queue, ServicePoint
from citizencenter.routing import assignment, decisions, escalation, forwarding, rules, text
from citizencenter.routing.models import GuideProfile, Presence, QueuePolicy, RoutingDecision
from citizencenter.routing.presence import split_skills, takes_work
from citizencenter.sla import service as sla_service


def _capacity_freed(session: Session, case: Case, *, previous: CaseStatus, **_data) -> None:
    if case.assignee_id and previous in assignment.OCCUPYING \
            and case.status not in assignment.OCCUPYING:
        # The guide has room again: routing hands them the next waiting case.
        outbox.enqueue(session, "routing.capacity_freed", {"user_id": case.assignee_id})


def _to_queue(session: Session, case: Case) -> None:
    now = utcnow()
    case.waiting_since = now
    case.escalate_at = escalation.deadline(session, case.queue_id, now)
    outbox.enqueue(session, "routing.case_waiting", {"case_id": str(case.id)})


def _in_centre_queue(case: Case) -> bool:
    return case.routed_at is not None and case.department_id is None \
        and case.status in assignment.WAITING


def _waiting_again(session: Session, case: Case, *, previous: int | None = None,
                   **_data) -> None:
    """A routed case taken from its guide (by a supervisor, or as the guide leaves) waits
    in its queue again, for the next free guide; without this it would wait for no one."""
    if case.assignee_id is None and previous is not None and _in_centre_queue(case) \
            and case.waiting_since is None:
        _to_queue(session, case)


def _reopened(session: Session, case: Case, *, previous: CaseStatus, actor: str = "system",
              **_data) -> None:
    """A case the citizen reopens goes back to its guide; when that guide can no longer
    take work (or it had none), it waits in its queue."""
    if previous in assignment.WAITING or not _in_centre_queue(case):
        return
    if case.assignee_id is None:
        if case.waiting_since is None:
            _to_queue(session, case)
    elif not takes_work(session.get(User, case.assignee_id)):
        assignment.release(session, case, actor)


def subscribe_case_events() -> None:
    """Give a guide the next waiting case when one of theirs is done, and put a case taken
    from its guide, or reopened without one, back in its queue (run at app start)."""
    events.subscribe("status_changed", _capacity_freed)
    events.subscribe("status_changed", _reopened)
    events.subscribe("assigned", _waiting_again)


def _facts(case: Case, body: str) -> rules.CaseFacts:
    words = text.tokens(f"{case.subject}\n{body}")
    return rules.CaseFacts(case, words, case.language or text.detect_language(words))


def _first_bodies(session: Session, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The first inbound message of each case, in one read."""
    first = (select(Message.case_id, Message.body, func.row_number().over(
        partition_by=Message.case_id, order_by=(Message.created_at, Message.id)).label("n"))
        .where(Message.case_id.in_(case_ids), Message.direction == Direction.INBOUND)
        .subquery())
    return dict(session.execute(select(first.c.case_id, first.c.body)
                                .where(first.c.n == 1)).all())


class _Batch:
    """What placing a batch of cases reads once: rules, queues, escalation deadlines (the
    reference data from each process's `reference_cache`: a batch is often one case)."""

    def __init__(self, session: Session, now):
        self.session, self.now = session, now
        self.rules = reference_cache.cached(session, "routing: live rules",
                                            lambda: rules.current_rules(session), rows=True,
                                            relations=())
        self.policies = {policy.queue_id: policy for policy in reference_cache.cached(
            session, "routing: queue policies",
            lambda: list(session.scalars(select(QueuePolicy))), rows=True, relations=())}
        self.queues = reference_cache.cached(session, "routing: queue ids by slug", lambda: dict(
            session.execute(select(Queue.slug, Queue.id)).all()))
        self.defaults = reference_cache.cached(session, "routing: default queue ids", lambda: dict(
            session.execute(select(ChannelDefaultQueue.channel, ChannelDefaultQueue.queue_id))
            .all()))
        self._deadlines: dict = {}
        # The batch's routing decisions and audit entries, inserted together (`write`).
        self.decisions: list[dict] = []
        self.audit: list[dict] = []

    def write(self) -> None:
        decisions.write(self.session, self.decisions)
        audit.write(self.session, self.audit)

    def deadline(self, queue_id: int | None):
        if queue_id not in self._deadlines:
            self._deadlines[queue_id] = escalation.deadline(self.session, queue_id, self.now,
                                                            self.policies)
        return self._deadlines[queue_id]


def _place(batch: _Batch, case: Case, body: str) -> bool:
    """Set the case's queue, priority and skills by the first matching rule and record it.

    Returns whether the case now waits for a guide; a rule naming a department forwards it.
    """
    session = batch.session
    facts = _facts(case, body)
    case.language = facts.language or "sv"
    rule = rules.first_match(session, facts, batch.rules)
    actions = rule.actions if rule else {}
    case.routing_rule_version_id = rule.id if rule else None
    if "priority" in actions:
        case.priority = Priority(actions["priority"])
    case.required_skills = sorted(
        {f"category:{c}" for c in actions.get("required_skills", {}).get("categories", [])}
        | {f"language:{lang}" for lang in actions.get("required_skills", {}).get("languages", [])})
    if "queue" in actions:
        case.queue_id = batch.queues.get(actions["queue"])
    elif case.queue_id is None and "department" not in actions:
        case.queue_id = batch.defaults.get(case.channel.value)
    case.routed_at = batch.now
    reason = "rule" if rule else "channel_default"
    batch.audit.append(audit.entry("system", "case.routed", "case", case.id,
                                   queue_id=case.queue_id,
                                   rule_version_id=case.routing_rule_version_id))
    decisions.record(session, case, "routed", reason, language=case.language,
                     required_skills=case.required_skills, into=batch.decisions)
    if "department" in actions:
        batch.write()  # before the hand-over's own decision
        department = session.scalar(select(Department)
                                     .where(Department.slug == actions["department"]))
        forwarding.hand_over(session, case, department, SYSTEM, None, "rule_targets_department")
        return False
    if case.assignee_id is None and case.status in assignment.WAITING:
        case.waiting_since = case.received_at
        case.escalate_at = batch.deadline(case.queue_id)
        return True
    return False


def route_case(session: Session, case_id: uuid.UUID,
               sticky_window: timedelta = assignment.STICKY_WINDOW) -> bool:
    """Place a new case by the first matching rule and assign it; a second run changes nothing."""
    case = assignment.lock_case(session, case_id, skip=False)
    if case is None or case.routed_at is not None:
        session.rollback()
        return False
    sla_service.start_timers(session, [case])  # first: a rule may change the priority
    batch = _Batch(session, utcnow())
    waits = _place(batch, case, _first_bodies(session, [case.id]).get(case.id, ""))
    batch.write()
    if waits and assignment.try_assign(session, case, sticky_window).contended:
        outbox.enqueue(session, "routing.case_waiting", {"case_id": str(case.id)})
    session.commit()
    return True


def route_pending(session: Session, sticky_window: timedelta = assignment.STICKY_WINDOW,
                  batch_size: int = 200) -> int:
    """Start the SLA timers of every new case that waits and route it, oldest first.

    Cases are taken in batches, each in one transaction with a few statements for the
    whole batch, as call events are folded. On PostgreSQL several workers drain at once,
    each skipping the cases another has taken. Returns how many cases were routed.
    """
    routed = 0
    while True:
        query = (select(Case).options(lazyload("*"), selectinload(Case.category),
                                      selectinload(Case.contact))
                 .where(Case.routed_at.is_(None)).order_by(Case.received_at, Case.id)
                 .limit(batch_size))
        if is_postgresql(session):
            query = query.with_for_update(skip_locked=True, of=Case)
        cases = list(session.scalars(query.execution_options(populate_existing=True)))
        if not cases:
            session.rollback()
            return routed
        sla_service.start_timers(session, cases)
        batch = _Batch(session, utcnow())
        bodies = _first_bodies(session, [case.id for case in cases])
        with session.no_autoflush:  # the cases are written together, at the end
            waiting = [case for case in cases if _place(batch, case, bodies.get(case.id, ""))]
            assignment.assign_batch(session, waiting, sticky_window, into=batch.decisions)
            _write_cases(session, cases)
            batch.write()
        session.commit()
        routed += len(cases)


def route_new(session: Session, case_ids: list[uuid.UUID],
              sticky_window: timedelta = assignment.STICKY_WINDOW,
              batch_size: int = 200) -> bool:
    """Route every new case that waits (`route_pending`); return whether the cases named
    (those of the wake-up) are routed now. One another transaction held locked was
    skipped: the caller tries again shortly."""
    route_pending(session, sticky_window, batch_size)
    if not case_ids:
        return True
    left = session.scalar(select(func.count()).select_from(Case).where(
        Case.id.in_(case_ids), Case.routed_at.is_(None)))
    session.rollback()
    return not left


# What starting the timers, routing and assignment change on a new case.
_ROUTED = ("queue_id", "routed_at", "language", "routing_rule_version_id", "priority",
           "required_skills", "waiting_since", "escalate_at", "assignee_id", "due_at")
_WRITE_ROUTED = (update(Case.__table__).where(Case.__table__.c.id == bindparam("_id"))
                 .values({name: bindparam(f"_{name}") for name in
                          (*_ROUTED, "version", "updated_at")}))


def _write_cases(session: Session, cases: list[Case]) -> None:
    """Write a batch's changed cases with one executemany UPDATE, not a statement each.

    This transaction holds their rows locked, so the version check the ORM makes could
    not fail; the version still moves on, as for any change of the case.
    """
    changed = [case for case in cases if session.is_modified(case)]
    if not changed:
        return
    now = utcnow()
    session.execute(_WRITE_ROUTED, [
        {"_id": case.id, "_version": case.version + 1, "_updated_at": now,
         **{f"_{name}": getattr(case, name) for name in _ROUTED}} for case in changed])
    for case in changed:  # the session now knows these values as written
        for name in _ROUTED:
            set_committed_value(case, name, getattr(case, name))
        set_committed_value(case, "version", case.version + 1)
        set_committed_value(case, "updated_at", now)


def unrouted_cases(session: Session, since: datetime, before: datetime, limit: int
                   ) -> list[uuid.UUID]:
    """Cases received in [since, before) that routing never placed or whose SLA timers
    never started (ix_cases_unrouted, ix_cases_sla_unstarted)."""
    window = (Case.received_at >= since, Case.received_at < before)
    missing = union(
        select(Case.id, Case.received_at).where(Case.routed_at.is_(None), *window),
        select(Case.id, Case.received_at).where(Case.sla_started_at.is_(None), *window),
    ).subquery()
    return list(session.scalars(select(missing.c.id).order_by(missing.c.received_at)
                                .limit(limit)))


@dataclass
class CallDecision:
    agent: str | None
    user_id: int | None
    reason: str


@cache
def _decide_query(postgresql: bool = False):
    """The queue, the caller's last guide and the free guides with their phone load, one row each.

    One row per available guide with a PBX agent (guide columns null when there is none);
    no row at all for an unknown queue. No LATERAL: both derived tables are uncorrelated,
    so SQLite runs it too. On PostgreSQL the same read lets this transaction's commit skip
    waiting for the WAL flush.
    """
    last = (select(Case.contact_id, Case.assignee_id)
            .join(Contact, Case.contact_id == Contact.id)
            .where(Contact.phone == bindparam("caller"), Case.assignee_id.is_not(None),
                   Case.received_at >= bindparam("since"))
            .order_by(Case.received_at.desc()).limit(1).subquery("last"))
    phone_load = select(func.count()).where(
        Case.assignee_id == GuideProfile.user_id, Case.status.in_(assignment.OCCUPYING),
        Case.channel == Channel.PHONE).scalar_subquery()
    free = (select(GuideProfile.user_id, GuideProfile.presence, GuideProfile.skills,
                   GuideProfile.queue_ids, GuideProfile.capacities, GuideProfile.idle_since,
                   PbxAgent.agent_id, phone_load.label("phone_load"))
            .join(PbxAgent, PbxAgent.user_id == GuideProfile.user_id)
            .where(GuideProfile.presence == Presence.AVAILABLE).subquery("free"))
    # The phone system waits on decide while the caller hears ringing, and its one write is
    # the record of the answer given (`call_decision`), which no later step reads back: its
    # commit need not wait for the WAL flush. Set here, for this transaction alone, so it
    # costs no round trip; a database crash may lose the last fraction of a second of such
    # records, never a half-written one, nor any other write.
    async_commit = (func.set_config("synchronous_commit", "off", True).label("async_commit"),) \
        if postgresql else ()
    return (select(Queue.id.label("queue_id"), Queue.department_id.label("queue_department_id"),
                   last.c.contact_id, last.c.assignee_id.label("sticky"), *free.c,
                   *async_commit)
            .select_from(Queue).outerjoin(last, true()).outerjoin(free, true())
            .where(Queue.slug == bindparam("queue_slug")))


def decide_call(session: Session, caller: str | None, queue_slug: str,
                sticky_window: timedelta = assignment.STICKY_WINDOW) -> CallDecision:
    """Which guide's phone should ring: the caller's last guide when free, else the longest idle."""
    # The phone system waits on this while the caller hears ringing: every read is one
    # round trip, built once, and the decision is one Core insert.
    rows = session.execute(_decide_query(is_postgresql(session)), {
        "queue_slug": queue_slug, "caller": caller or None,
        "since": utcnow() - sticky_window}).all()
    if not rows:
        raise InvalidInput("queue", f"Unknown queue {queue_slug!r}.")
    queue_id, contact_id, sticky = rows[0].queue_id, rows[0].contact_id, rows[0].sticky
    # misfit() only asks whether this one queue is the centre's.
    centre = {queue_id} if rows[0].queue_department_id is None else set()
    guides = [row for row in rows if row.user_id is not None]
    agents = {row.user_id: row.agent_id for row in guides}
    need = assignment.needs("phone", None, None)
    ranked = sorted(guides, key=lambda p: (p.user_id != sticky, p.idle_since, p.user_id))
    fits = [p for p in ranked if assignment.misfit(
        p, "phone", need, queue_id, {"phone": p.phone_load}, centre) is None]
    chosen = fits[0] if fits else None
    reason = "none_available" if chosen is None else \
        "sticky" if chosen.user_id == sticky else "longest_idle"
    session.execute(insert(RoutingDecision.__table__), {
        "case_id": None, "kind": "call_decision", "reason": reason, "queue_id": queue_id,
        "chosen_user_id": chosen.user_id if chosen else None,
        "candidates": [{"user_id": p.user_id, "fit": "ok"} for p in fits],
        "details": {"contact_id": contact_id}, "decided_at": utcnow(), "actor": "system"})
    session.commit()
    return CallDecision(agents[chosen.user_id] if chosen else None,
                        chosen.user_id if chosen else None, reason)


def describe_profiles(session: Session, profiles: list[GuideProfile]) -> list[dict]:
    """Profiles as the API shows them, with names, slugs and current load."""
    users = dict(session.execute(select(User.id, User.name).where(
        User.id.in_([p.user_id for p in profiles]))).all())
    queues = dict(session.execute(select(Queue.id, Queue.slug)).all())
    points = dict(session.execute(select(ServicePoint.id, ServicePoint.slug)).all())
    load = assignment.loads(session, [p.user_id for p in profiles])
    return [{"user_id": p.user_id, "name": users.get(p.user_id), "presence": p.presence,
             "presence_changed_at": p.presence_changed_at, "idle_since": p.idle_since,
             "last_assignment_at": p.last_assignment_at, "skills": split_skills(p.skills),
             "capacities": p.capacities, "load": load[p.user_id],
             "queues": [queues[q] for q in p.queue_ids if q in queues],
             "service_point": points.get(p.service_point_id)} for p in profiles]


def dry_run(session: Session, subject: str, channel: Channel, sender: str | None = None,
            body: str = "", now: datetime | None = None) -> dict:
    """Where a case with this subject, channel and sender would be routed, and why.

    The router's own matching (`rules.first_match` over the live rules, the channel's
    default queue when none matches) on a case that is never stored: nothing is written,
    no audit entry, no case, no contact.
    """
    sender = (sender or "").strip()
    email = sender.lower() if "@" in sender else None
    phone = None
    if sender and email is None:
        try:
            phone = contacts_service.normalise_phone(sender)
        except ValueError:
            raise InvalidInput("sender", "Give an e-mail address or a phone number.") from None
    contact = None
    if email or phone:  # intake finds the contact, or makes one, the same way
        contact = session.scalar(
            select(Contact).where(Contact.email == email if email else Contact.phone == phone)
            .order_by(Contact.id).limit(1)) or Contact(email=email, phone=phone)
    case = Case(id=uuid.uuid4(), subject=subject, channel=channel,
                received_at=now or utcnow(), language=None,
                contact_id=contact.id if contact is not None else None)
    set_committed_value(case, "contact", contact)  # no cascade into the session
    set_committed_value(case, "category", None)
    facts = _facts(case, body)
    rule = rules.first_match(session, facts)
    actions = rule.actions if rule else {}
    queue = actions.get("queue")
    if queue is None and "department" not in actions:
        queue = session.scalar(select(Queue.slug).join(
            ChannelDefaultQueue, ChannelDefaultQueue.queue_id == Queue.id)
            .where(ChannelDefaultQueue.channel == channel.value))
    result = {"rule": rule, "reason": "rule" if rule else "channel_default",
              "matched": rules.explain(rule, facts) if rule else [],
              "queue": queue, "department": actions.get("department"),
              "priority": actions.get("priority"), "language": facts.language or "sv",
              "required_skills": actions.get("required_skills", {})}
    return result
