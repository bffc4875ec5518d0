"""Giving waiting cases to guides: skills, spare capacity, sticky contacts, longest idle.

On PostgreSQL the case and the guide are locked with FOR UPDATE; the second lock of a
pair is always SKIP LOCKED, so two workers never wait on each other in a cycle. A guide
skipped because another worker holds them makes the outcome `contended`, and the caller
tries again shortly. On SQLite every transaction holds the write lock from its start
(db.py), so the same reads and conditional writes are already serialised.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case as when
from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.orm import Session, lazyload

from citizencenter import reference_cache
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality, events
from citizencenter.cases.enums import CaseStatus, Priority
from citizencenter.cases.models import Case
from citizencenter.contacts import service as contacts
from citizencenter.contacts.models import Contact
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import Forbidden
from citizencenter.organisation.models import Queue
from citizencenter.routing import decisions, presence
from citizencenter.routing.models import GuideProfile, Presence

OCCUPYING = (CaseStatus.NEW, CaseStatus.OPEN)  # cases that take a guide's capacity
WAITING = (CaseStatus.NEW, CaseStatus.OPEN)
UNRESOLVED = (*OCCUPYING, CaseStatus.WAITING_ON_CITIZEN)  # what a guide may hold
PRIORITY_ORDER = when({Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2,
                       Priority.LOW: 3}, value=Case.priority, else_=4)
STICKY_WINDOW = timedelta(days=7)
PULL_BATCH = 100


@dataclass
class Outcome:
    assigned_to: int | None = None
    contended: bool = False
    candidates: list[dict] = field(default_factory=list)


def is_waiting(case: Case) -> bool:
    return case.assignee_id is None and case.waiting_since is not None \
        and case.status in WAITING


def needs(channel: str, language: str | None, required: list[str] | None) -> set[str]:
    """The skill tags a guide must have for a case."""
    return {f"channel:{channel}", f"language:{language or 'sv'}", *(required or [])}


def loads(session: Session, user_ids) -> dict[int, dict[str, int]]:
    """Open cases per guide and channel."""
    out: dict[int, dict[str, int]] = {uid: {} for uid in user_ids}
    if out:
        for uid, channel, n in session.execute(
                select(Case.assignee_id, Case.channel, func.count())
                .where(Case.assignee_id.in_(list(out)), Case.status.in_(OCCUPYING))
                .group_by(Case.assignee_id, Case.channel)):
            out[uid][channel.value] = n
    return out


def centre_queue_ids(session: Session) -> frozenset[int]:
    """The centre's own queues (no department), kept per process (`reference_cache`)."""
    return reference_cache.cached(session, "centre_queue_ids", lambda: frozenset(
        session.scalars(select(Queue.id).where(Queue.department_id.is_(None)))))


def misfit(profile: GuideProfile, channel: str, need: set[str], queue_id: int | None,
           load: dict[str, int], centre: set[int]) -> str | None:
    """Why the guide cannot take such a case now, or None when they can."""
    if profile.presence != Presence.AVAILABLE:
        return f"presence:{profile.presence.value}"
    return _misfit(set(profile.skills), set(profile.queue_ids) or centre, profile.capacities,
                   channel, need, queue_id, load)


def _misfit(skills: set[str], queues: set[int], capacities: dict, channel: str,
            need: set[str], queue_id: int | None, load: dict[str, int]) -> str | None:
    """`misfit` of an available guide whose skills and served queues are given as sets."""
    missing = need - skills
    if missing:
        return "missing:" + ",".join(sorted(missing))
    if queue_id not in queues:
        return "queue_not_served"
    if load.get(channel, 0) >= int(capacities.get(channel, 0)):
        return "at_capacity"
    return None


@dataclass(slots=True)
class _Free:
    """A locked, available guide as a batch sees them: read once, kept up to date."""

    profile: GuideProfile
    user_id: int
    idle_since: object
    idle_iso: str
    skills: set[str]
    queues: set[int]
    capacities: dict
    load: dict[str, int]


def protected_contacts(session: Session, contact_ids) -> set[int]:
    """Those of these contacts with a protected identity."""
    ids = {i for i in contact_ids if i is not None}
    if not ids:
        return set()
    return set(session.scalars(select(Contact.id).where(
        Contact.id.in_(ids), Contact.protection.is_not(None))))


def permitted_user_ids(session: Session) -> set[int]:
    """The users granted the protected permission: only they take a protected contact's case."""
    return set(session.scalars(select(User.id).where(User.protected_access.is_(True))))


def confidential_readers(session: Session) -> set[int]:
    """The users who may read every confidential case: only they take one from a queue."""
    return set(session.scalars(select(User.id).where(
        User.role.in_(confidentiality.READS_EVERY_CASE))))


def lock_case(session: Session, case_id: uuid.UUID, *, skip: bool) -> Case | None:
    # Columns only: FOR UPDATE cannot lock the outer side of the eager joins.
    query = select(Case).options(lazyload("*")).where(Case.id == case_id)
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=skip)
    return session.scalar(query.execution_options(populate_existing=True))


def lock_guide(session: Session, user_id: int, *, skip: bool) -> GuideProfile | None:
    query = select(GuideProfile).where(GuideProfile.user_id == user_id)
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=skip)
    return session.scalar(query.execution_options(populate_existing=True))


def sticky_guide(session: Session, case: Case, window: timedelta) -> int | None:
    """The guide who last helped this citizen within the window."""
    if case.contact_id is None:
        return None
    return session.scalar(
        select(Case.assignee_id).where(Case.contact_id == case.contact_id, Case.id != case.id,
                                       Case.assignee_id.is_not(None),
                                       Case.received_at >= utcnow() - window)
        .order_by(Case.received_at.desc()).limit(1))


def give(session: Session, case: Case, profile: GuideProfile, reason: str,
         candidates: list[dict], actor: str = "system", into: list[dict] | None = None
         ) -> None:
    """Assign a locked, waiting case to a locked guide and record why (the decision's
    row appended to `into` when given, see `decisions.record`)."""
    now = utcnow()
    previous = case.assignee_id
    case.assignee_id, case.waiting_since, case.escalate_at = profile.user_id, None, None
    profile.idle_since = profile.last_assignment_at = now
    decisions.record(session, case, "assigned", reason, chosen_user_id=profile.user_id,
                     candidates=candidates, actor=actor, into=into)
    events.publish(session, "assigned", case, actor=actor, previous=previous)


def release(session: Session, case: Case, actor: str,
            reason: str = "user_cannot_take_work") -> None:
    """Take the case from its guide; a new or open one waits in its queue again, one
    waiting on the citizen goes there when they answer (`routing.service` hears both)."""
    previous, case.assignee_id = case.assignee_id, None
    decisions.record(session, case, "released", reason, actor=actor)
    events.publish(session, "assigned", case, actor=actor, previous=previous)


def _held_by(user_id: int) -> tuple:
    return Case.assignee_id == user_id, Case.status.in_(UNRESOLVED)


def unresolved_count(session: Session, user_id: int) -> int:
    """How many unresolved cases the guide holds (what `hand_back` would put back)."""
    return session.scalar(select(func.count()).select_from(Case).where(*_held_by(user_id)))


def hand_back(session: Session, actor: Principal, user_id: int) -> int:
    """Sign a guide off and put every unresolved case of theirs back in its queue: a
    supervisor's step when a guide has left for the day (ill, say) with work assigned,
    which would otherwise wait for someone who is not there. Returns how many cases."""
    if not actor.has_scope("routing:write"):
        raise Forbidden("Only a supervisor may hand back a guide's cases.")
    profile = presence.ensure_profile(session, user_id, lock=True)
    presence.sign_off(session, actor, profile, "supervisor")
    query = select(Case).options(lazyload("*")).where(*_held_by(user_id))
    if is_postgresql(session):
        query = query.with_for_update()
    handed = session.scalars(query.order_by(Case.received_at)).all()
    for case in handed:
        release(session, case, actor.actor, "handed_back")
    audit.record(session, actor.actor, "guide.cases_handed_back", "user", user_id,
                 cases=len(handed))
    session.commit()
    return len(handed)


def release_cases(session: Session, actor: Principal, user: User) -> None:
    """A user who can no longer take work (disabled, or no longer a guide or supervisor)
    hands their open cases back."""
    if presence.takes_work(user):
        return
    for case in session.scalars(select(Case).where(Case.assignee_id == user.id,
                                                   Case.status.in_(OCCUPYING))):
        release(session, case, actor.actor)


def subscribe_account_changes() -> None:
    """A user who can no longer take work is signed off and hands back their cases."""
    accounts.on_user_changed(presence.sign_off_unroutable)
    accounts.on_user_changed(release_cases)


def try_assign(session: Session, case: Case, sticky_window: timedelta = STICKY_WINDOW,
               rounds: int = 3) -> Outcome:
    """Give a locked, waiting case to the best free guide, or leave it waiting."""
    need = needs(case.channel.value, case.language, case.required_skills)
    centre = centre_queue_ids(session)
    sticky = sticky_guide(session, case, sticky_window)
    # A protected contact's case goes only to a guide granted the protected permission.
    permitted = permitted_user_ids(session) \
        if protected_contacts(session, [case.contact_id]) else None
    readers = confidential_readers(session) if case.confidential_at is not None else None
    outcome = Outcome()
    for _ in range(rounds):
        profiles = session.scalars(select(GuideProfile).where(
            GuideProfile.presence == Presence.AVAILABLE)).all()
        load = loads(session, [p.user_id for p in profiles])
        considered = []
        for p in sorted(profiles, key=lambda p: (p.user_id != sticky, p.idle_since, p.user_id)):
            reason = misfit(p, case.channel.value, need, case.queue_id, load[p.user_id], centre)
            if reason is None and permitted is not None and p.user_id not in permitted:
                reason = "protected_identity"
            if reason is None and readers is not None and p.user_id not in readers:
                reason = "confidential"
            considered.append((p, {"user_id": p.user_id, "idle_since": p.idle_since.isoformat(),
                                   "fit": reason or "ok"}))
        outcome = Outcome(candidates=[entry for _, entry in considered])
        stale = False
        for profile, entry in considered:
            if entry["fit"] != "ok":
                continue
            seen = (profile.idle_since, profile.presence)
            locked = lock_guide(session, profile.user_id, skip=True)
            if locked is None:
                entry["fit"], outcome.contended = "locked_elsewhere", True
                continue
            if (locked.idle_since, locked.presence) != seen:
                stale = True  # assigned meanwhile: the order may have changed, look again
                break
            fresh = loads(session, [locked.user_id])[locked.user_id]
            reason = misfit(locked, case.channel.value, need, case.queue_id, fresh, centre)
            if reason:
                entry["fit"] = reason
                continue
            give(session, case, locked, "sticky" if locked.user_id == sticky else "longest_idle",
                 outcome.candidates)
            outcome.assigned_to = locked.user_id
            return outcome
        if not stale:
            break
    else:
        outcome.contended = True  # the guides kept changing under us: try again shortly
    decisions.record(session, case, "waiting", "contended" if outcome.contended
                     else "no_guide_free", candidates=outcome.candidates)
    return outcome


def sticky_guides(session: Session, cases: list[Case], window: timedelta
                  ) -> dict[int, int]:
    """Per contact of these cases, the guide who last helped them within the window."""
    contact_ids = {case.contact_id for case in cases if case.contact_id is not None}
    if not contact_ids:
        return {}
    latest = (select(Case.contact_id, Case.assignee_id, func.row_number().over(
        partition_by=Case.contact_id, order_by=Case.received_at.desc()).label("n"))
        .where(Case.contact_id.in_(contact_ids), Case.assignee_id.is_not(None),
               Case.received_at >= utcnow() - window).subquery())
    return dict(session.execute(select(latest.c.contact_id, latest.c.assignee_id)
                                .where(latest.c.n == 1)).all())


def assign_batch(session: Session, cases: list[Case],
                 sticky_window: timedelta = STICKY_WINDOW,
                 into: list[dict] | None = None) -> None:
    """Give each locked, waiting case of a batch the best free guide, oldest case first.

    The free guides are locked once for the whole batch, without SKIP LOCKED: two
    batches take turns over the guides rather than each seeing only some of them, so no
    case is left waiting while a guide is free. Loads are counted once and kept up to
    date here as cases are given, so a batch reads the same handful of rows however
    many cases it holds.
    """
    if not cases:
        return
    query = (select(GuideProfile).where(GuideProfile.presence == Presence.AVAILABLE)
             .order_by(GuideProfile.user_id))
    if is_postgresql(session):
        query = query.with_for_update()
    profiles = session.scalars(query.execution_options(populate_existing=True)).all()
    load = loads(session, [p.user_id for p in profiles])
    centre = centre_queue_ids(session) if profiles else set()
    sticky = sticky_guides(session, cases, sticky_window) if profiles else {}
    protected = protected_contacts(session, [c.contact_id for c in cases]) if profiles else set()
    permitted = permitted_user_ids(session) if protected else set()
    readers = confidential_readers(session) \
        if profiles and any(c.confidential_at is not None for c in cases) else set()
    # What the guides' ORM objects hold, read once (the loop below runs per case and
    # guide); a guide given a case is updated here as on the object.
    free = sorted((_Free(p, p.user_id, p.idle_since, p.idle_since.isoformat(), set(p.skills),
                         set(p.queue_ids) or centre, p.capacities, load[p.user_id])
                   for p in profiles), key=lambda f: (f.idle_since, f.user_id))
    for case in cases:
        channel = case.channel.value
        need = needs(channel, case.language, case.required_skills)
        last = sticky.get(case.contact_id)
        ordered = free if last is None else \
            [f for f in free if f.user_id == last] + [f for f in free if f.user_id != last]
        candidates, chosen = [], None
        for f in ordered:
            reason = _misfit(f.skills, f.queues, f.capacities, channel, need, case.queue_id,
                             f.load)
            if reason is None and case.contact_id in protected and f.user_id not in permitted:
                reason = "protected_identity"
            if reason is None and case.confidential_at is not None \
                    and f.user_id not in readers:
                reason = "confidential"
            candidates.append({"user_id": f.user_id, "idle_since": f.idle_iso,
                               "fit": reason or "ok"})
            chosen = chosen or (f if reason is None else None)
        if chosen is None:
            decisions.record(session, case, "waiting", "no_guide_free", candidates=candidates,
                             into=into)
            continue
        give(session, case, chosen.profile,
             "sticky" if chosen.user_id == last else "longest_idle", candidates, into=into)
        chosen.load[channel] = chosen.load.get(channel, 0) + 1
        chosen.idle_since = chosen.profile.idle_since
        chosen.idle_iso = chosen.idle_since.isoformat()
        free.sort(key=lambda f: (f.idle_since, f.user_id))
        if case.contact_id is not None:
            sticky[case.contact_id] = chosen.user_id


def assign_waiting(session: Session, case_id: uuid.UUID,
                   sticky_window: timedelta = STICKY_WINDOW) -> Outcome:
    """Try again to assign a case that is still waiting."""
    case = lock_case(session, case_id, skip=False)
    if case is None or not is_waiting(case):
        session.rollback()
        return Outcome()
    outcome = try_assign(session, case, sticky_window)
    session.commit()
    return outcome


def _pull(session: Session, profile: GuideProfile, limit: int | None, actor: str,
          reason: str) -> list[Case]:
    """Fill the guide's spare capacity from the queues, by priority, then age."""
    load = loads(session, [profile.user_id])[profile.user_id]
    centre = centre_queue_ids(session)
    skills = set(profile.skills)
    user = session.get(User, profile.user_id)
    # Without the protected permission a guide never takes a protected contact's case.
    hidden = () if user is not None and user.protected_access \
        else (contacts.unprotected(Case.contact_id),)
    if user is None or user.role not in confidentiality.READS_EVERY_CASE:
        hidden += (Case.confidential_at.is_(None),)  # nor a confidential one it could not read
    taken: list[Case] = []
    after = None  # keyset of the last row looked at: (priority order, waiting_since, id)
    while limit is None or len(taken) < limit:
        spare = [ch for ch, cap in profile.capacities.items()
                 if load.get(ch, 0) < int(cap) and f"channel:{ch}" in skills]
        if not spare:
            break
        query = (select(Case.id, Case.channel, Case.language, Case.required_skills,
                        PRIORITY_ORDER.label("rank"), Case.waiting_since)
                 .where(Case.assignee_id.is_(None), Case.waiting_since.is_not(None),
                        Case.status.in_(WAITING), Case.channel.in_(spare),
                        Case.queue_id.in_(list(set(profile.queue_ids) or centre)), *hidden)
                 .order_by(PRIORITY_ORDER, Case.waiting_since, Case.id).limit(PULL_BATCH))
        if after is not None:
            query = query.where(tuple_(PRIORITY_ORDER, Case.waiting_since, Case.id) > after)
        rows = session.execute(query).all()
        if not rows:
            break
        last = rows[-1]
        after = tuple_(literal(last.rank), literal(last.waiting_since, Case.waiting_since.type),
                       literal(last.id, Case.id.type))
        for case_id, channel, language, required, _rank, _since in rows:
            if load.get(channel.value, 0) >= int(profile.capacities.get(channel.value, 0)) \
                    or not needs(channel.value, language, required) <= skills:
                continue
            case = lock_case(session, case_id, skip=True)
            if case is None or not is_waiting(case):
                continue  # another worker has it
            give(session, case, profile, reason, [{"user_id": profile.user_id, "fit": "ok"}],
                 actor)
            load[channel.value] = load.get(channel.value, 0) + 1
            taken.append(case)
            if limit is not None and len(taken) >= limit:
                break
    return taken


def pull_for_guide(session: Session, user_id: int) -> int:
    """A guide became available or finished a case: give them the next waiting cases."""
    profile = lock_guide(session, user_id, skip=False)
    if profile is None or profile.presence != Presence.AVAILABLE:
        session.rollback()
        return 0
    taken = _pull(session, profile, None, "system", "pulled")
    session.commit()
    return len(taken)


def claim_next(session: Session, actor: Principal) -> Case | None:
    """A guide asks for the next waiting case they can take, whatever their presence."""
    if actor.user_id is None:
        raise Forbidden("Only a guide's own token can claim cases.")
    presence.ensure_profile(session, actor.user_id)
    profile = lock_guide(session, actor.user_id, skip=False)
    taken = _pull(session, profile, 1, actor.actor, "claimed")
    session.commit()
    return taken[0] if taken else None


def pull_for_available(session: Session) -> int:
    """Give waiting cases to every available guide with room (the scan's safety net)."""
    user_ids = session.scalars(select(GuideProfile.user_id)
                               .where(GuideProfile.presence == Presence.AVAILABLE)
                               .order_by(GuideProfile.idle_since)).all()
    session.rollback()
    return sum(pull_for_guide(session, uid) for uid in user_ids)
