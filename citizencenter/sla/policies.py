"""SLA policies: which target applies to which case, and changing them."""

import hashlib
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import reference_cache
from citizencenter.accounts.models import Department
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases.models import Case
from citizencenter.errors import AppError, NotFound, PreconditionFailed
from citizencenter.organisation.models import Category
from citizencenter.organisation.service import by_slug
from citizencenter.pagination import Paginator
from citizencenter.sla import clocks
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.models import SlaCalendar
from citizencenter.sla.enums import Metric
from citizencenter.sla.models import SlaPolicy
from citizencenter.sla.permissions import require_manager

SIMPLE_FIELDS = ("name", "metric", "channel", "priority", "target_value", "target_unit",
                 "pause_statuses", "warn_at_percent", "active")


class PolicyExists(AppError):
    status, title, slug = 409, "Policy exists", "policy-exists"


def _apply(session: Session, policy: SlaPolicy, data: dict) -> None:
    for name in SIMPLE_FIELDS:
        if name in data:
            setattr(policy, name, data[name])
    if "category" in data:
        policy.category = by_slug(session, Category, data["category"], "category")
    if "department" in data:
        policy.department = by_slug(session, Department, data["department"], "department")
    if "calendar" in data:
        policy.calendar = by_slug(session, SlaCalendar, data["calendar"], "calendar")


def _snapshot(policy: SlaPolicy) -> dict:
    """What the trail keeps of a policy's settings."""
    return {**{name: getattr(policy, name) for name in SIMPLE_FIELDS},
            **{name: getattr(getattr(policy, name), "slug", None)
               for name in ("category", "department", "calendar")}}


def add_policy(session: Session, data: dict, *, actor: str = "system") -> SlaPolicy:
    """Add a policy to the caller's transaction."""
    if session.scalar(select(SlaPolicy.id).where(SlaPolicy.slug == data["slug"])):
        raise PolicyExists(f"A policy {data['slug']!r} exists; change it with PATCH.")
    policy = SlaPolicy(slug=data["slug"])
    _apply(session, policy, data)
    session.add(policy)
    session.flush()
    audit.record(session, actor, "sla_policy.created", "sla_policy", policy.slug,
                 new=_snapshot(policy))
    return policy


def create_policy(session: Session, actor: Principal, data: dict) -> SlaPolicy:
    """Create a policy (supervisors and admins)."""
    require_manager(actor)
    policy = add_policy(session, data, actor=actor.actor)
    session.commit()
    return policy


def etag(policy: SlaPolicy) -> str:
    """The policy's entity tag: it changes whenever the policy does (its `updated_at`)."""
    return hashlib.sha256(policy.updated_at.isoformat().encode()).hexdigest()[:20]


def update_policy(session: Session, actor: Principal, slug: str, changes: dict, *,
                  unchanged_since: str | None = None,
                  expected_etag: str | None = None) -> SlaPolicy:
    """Change a policy; running timers keep the target they started with.

    `unchanged_since`: the `updated_at` (ISO) a form was drawn from; `expected_etag`: the
    ETag an If-Match names. Either refuses with 412 when the policy changed since,
    nothing saved; without them the change is made as it comes."""
    require_manager(actor)
    policy = get_policy(session, slug)
    if (unchanged_since is not None and policy.updated_at.isoformat() != unchanged_since) \
            or (expected_etag is not None and expected_etag != etag(policy)):
        raise PreconditionFailed("The policy was changed since it was read; read it again.")
    before = _snapshot(policy)
    _apply(session, policy, changes)
    audit.record_changes(session, actor.actor, "sla_policy.changed", "sla_policy", slug, before,
                         _snapshot(policy))
    session.commit()
    return policy


def get_policy(session: Session, slug: str) -> SlaPolicy:
    policy = session.scalar(select(SlaPolicy).where(SlaPolicy.slug == slug))
    if policy is None:
        raise NotFound("No such policy.")
    return policy


def list_policies(session: Session, paginator: Paginator, limit: int | None = None,
                  cursor: str | None = None, **filters) -> tuple:
    """Page through policies by slug."""
    query = select(SlaPolicy)
    for name in ("metric", "channel", "active"):
        if name in filters:
            query = query.where(getattr(SlaPolicy, name) == filters[name])
    return paginator.page(session, query, (SlaPolicy.slug,), to_key=lambda p: [p.slug],
                          from_key=lambda k: (str(k[0]),),
                          filters={"list": "sla_policies", **filters}, limit=limit,
                          cursor=cursor, descending=False)


def _specificity(policy: SlaPolicy) -> int:
    return sum(value is not None for value in (policy.channel, policy.priority,
                                               policy.category_id, policy.department_id))


def matching_policies(session: Session, case: Case, metric: Metric) -> list[SlaPolicy]:
    """The active policies for `metric` that fit the case best (all of them on a tie).

    A policy names a channel, priority, category or department, or leaves it open; the
    ones naming the most win, so a policy for urgent e-mail overrides the e-mail one.
    Every policy (with its calendar's versions) is kept per process while the reference
    data's version stays the same (`reference_cache`), and matched here, so an intake
    reads none of them and the read flushes nothing. The winners join the session.
    """
    def load() -> list[SlaPolicy]:
        with session.no_autoflush:
            return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.id)).unique())

    if any(isinstance(obj, SlaPolicy) for obj in (*session.new, *session.deleted)):
        session.flush()  # a policy added or removed in this transaction counts (and needs an id)
    # Timers need a policy's calendar (and its versions); the rest loads when used.
    known = reference_cache.cached(session, "sla_policies", load, rows=True,
                                   relations=("calendar",))
    candidates = [p for p in known if p.active and p.metric == metric
                  and p.channel in (None, case.channel)
                  and p.priority in (None, case.priority)
                  and p.category_id in (None, case.category_id)
                  and p.department_id in (None, case.department_id)]
    if not candidates:
        return []
    best = max(_specificity(p) for p in candidates)
    return [reference_cache.attach(session, p) for p in candidates
            if _specificity(p) == best]


EXAMPLE_TIME = time(16, 30)


def example(policy: SlaPolicy, today: date) -> tuple[datetime, datetime]:
    """When a case that arrives on the first ordinary Friday after `today` at 16:30 is
    due under the policy, computed as a timer would (`clocks.deadlines`, the policy's
    calendar as it is now): (start, due), in the calendar's time zone."""
    version = calendars.current_version(policy.calendar) if policy.calendar else None
    calendar = calendars.build(version)
    day = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    for _ in range(60):  # past holidays and shortened Fridays
        if calendar.hours_on(day) == calendar.weekly_hours[4]:
            break
        day += timedelta(days=7)
    start = datetime.combine(day, EXAMPLE_TIME, calendar.zone)
    _, due_at, _ = clocks.deadlines(calendar, start, policy.target_value, policy.target_unit,
                                    policy.warn_at_percent, [])
    return start, due_at.astimezone(calendar.zone)
