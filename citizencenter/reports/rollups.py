"""Incremental refresh of report facts and rollup cells.

Changed calls and cases are found by `updated_at` watermarks (feedback by
`submitted_at`), re-read with an overlap so that rows committed late with an older
timestamp are still seen. Each changed source is reduced to its fact again; only
facts that really differ are rewritten, and only the 15-minute buckets (old and new)
of those facts are summed again, then the Stockholm days holding those buckets.

An incremental refresh commits every CHUNK sources with their buckets summed again, so
no transaction holds the database (SQLite's write lock) for long and every commit leaves
facts and cells agreeing. The watermarks move only at the end: a refresh cut short is
simply read again next time, and facts found unchanged are skipped.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from citizencenter.accounts.models import Department
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.config import local_zone
from citizencenter.db import is_postgresql, utcnow
from citizencenter.feedback.models import FeedbackResponse
from citizencenter.organisation.models import Queue
from citizencenter.reports import facts as fact_rules
from citizencenter.reports.facts import Definitions, RepeatIndex
from citizencenter.reports.models import (
    DIMENSIONS,
    MAXIMA,
    MEASURES,
    ReportFact,
    RollupCell,
    RollupDay,
    RollupHour,
    RollupState,
)
from citizencenter.sla.calendars.calendar import BusinessCalendar

CHUNK = 2000
STATE_ID = 1


@dataclass
class RefreshResult:
    rebuilt: bool = False
    calls_read: int = 0
    cases_read: int = 0
    facts_written: int = 0
    buckets: set[datetime] = field(default_factory=set)
    days: set[date] = field(default_factory=set)

    def summary(self) -> dict:
        return {"rebuilt": self.rebuilt, "calls_read": self.calls_read,
                "cases_read": self.cases_read, "facts_written": self.facts_written,
                "buckets": len(self.buckets), "days": len(self.days)}


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _state(session: Session) -> RollupState:
    query = select(RollupState).where(RollupState.id == STATE_ID)
    if is_postgresql(session):
        query = query.with_for_update()  # one refresh at a time
    state = session.scalar(query)
    if state is None:
        state = RollupState(id=STATE_ID)
        session.add(state)
        session.flush()
    return state


def _changed(session: Session, column, id_column, since: datetime | None) -> tuple[list, object]:
    query = select(id_column, column)
    if since is not None:
        query = query.where(column > since)
    rows = session.execute(query).all()
    return [r[0] for r in rows], max((r[1] for r in rows), default=None)


def refresh_rollups(session: Session, definitions: Definitions, calendar: BusinessCalendar,
                    overlap: timedelta = timedelta(minutes=10),
                    rebuild: bool = False) -> RefreshResult:
    """Bring facts and cells up to date with the calls, cases and feedback written since."""
    result = RefreshResult()
    state = _state(session)
    if rebuild or state.definitions != definitions.as_dict():
        for model in (ReportFact, RollupCell, RollupDay, RollupHour):
            session.execute(delete(model))
        state.calls_seen_at = state.cases_seen_at = state.feedback_seen_at = None
        state.definitions = definitions.as_dict()
        result.rebuilt = True

    def since(seen):
        return seen - overlap if seen is not None else None

    call_ids, calls_seen = _changed(session, Call.updated_at, Call.id, since(state.calls_seen_at))
    case_ids, cases_seen = _changed(session, Case.updated_at, Case.id, since(state.cases_seen_at))
    rated, feedback_seen = _changed(session, FeedbackResponse.submitted_at,
                                    FeedbackResponse.case_id, since(state.feedback_seen_at))
    case_ids = set(case_ids) | set(rated)
    if not result.rebuilt:
        case_ids |= _earlier_of_same_contacts(session, case_ids, definitions.repeat_days)
        call_ids = set(call_ids) | _calls_of_cases(session, case_ids)
    result.calls_read, result.cases_read = len(call_ids), len(case_ids)

    sources = (("call", sorted(call_ids), lambda ids: _call_facts(session, ids, definitions)),
               ("case", sorted(case_ids, key=str),
                lambda ids: _case_facts(session, ids, definitions, calendar)))
    if result.rebuilt:  # rare and explicit: one transaction, never half-empty reports
        for kind, ids, compute in sources:
            _refresh_facts(session, kind, ids, compute, result)
        _sum_cells(session, result)
    else:
        for kind, ids, compute in sources:
            for chunk in _chunks(ids, CHUNK):
                state = _commit_slice(session, kind, chunk, compute, result)

    state.calls_seen_at = max(filter(None, (state.calls_seen_at, calls_seen)), default=None)
    state.cases_seen_at = max(filter(None, (state.cases_seen_at, cases_seen)), default=None)
    state.feedback_seen_at = max(filter(None, (state.feedback_seen_at, feedback_seen)),
                                 default=None)
    state.refreshed_at = utcnow()
    session.commit()
    return result


def _commit_slice(session: Session, kind: str, ids: list, compute,
                  result: RefreshResult) -> RollupState:
    """Rewrite a chunk's facts and sum their buckets again, commit, take the lock again."""
    part = RefreshResult()
    _refresh_facts(session, kind, ids, compute, part)
    _sum_cells(session, part)
    session.commit()
    result.facts_written += part.facts_written
    result.buckets |= part.buckets
    result.days |= part.days
    return _state(session)


def _earlier_of_same_contacts(session: Session, case_ids: set, days: int) -> set:
    """Inquiries whose repeat-contact flag a changed case may flip."""
    changed = list(case_ids)
    found: set = set()
    for ids in _chunks(changed):
        rows = session.execute(select(Case.contact_id, func.min(Case.received_at),
                                      func.max(Case.received_at))
                               .where(Case.id.in_(ids), Case.contact_id.is_not(None))
                               .group_by(Case.contact_id)).all()
        for group in _chunks(rows, 500):
            window = or_(*[(Case.contact_id == c)
                           & (Case.received_at >= low - timedelta(days=days))
                           & (Case.received_at <= high) for c, low, high in group])
            found.update(session.scalars(select(Case.id).where(window)))
    return found - case_ids


def _calls_of_cases(session: Session, case_ids: set) -> set:
    """Calls whose direct-answer flag follows their case's first-contact resolution."""
    found: set = set()
    for ids in _chunks(list(case_ids)):
        found.update(session.scalars(select(Call.id).where(Call.case_id.in_(ids))))
    return found


def _refresh_facts(session: Session, kind: str, ids: list, compute, result) -> None:
    """Rewrite the facts that changed and note their old and new buckets."""
    for chunk in _chunks(ids):
        keys = [str(i) for i in chunk]
        old = {} if result.rebuilt else {
            f.source_id: f for f in session.execute(select(*ReportFact.__table__.c).where(
                ReportFact.kind == kind, ReportFact.source_id.in_(keys)))}
        new = compute(chunk)
        stale, fresh = [], []
        for key in keys:
            before, after = old.get(key), new.get(key)
            if before is not None and after is not None and _same(before, after):
                continue
            if before is not None:
                stale.append(key)
                result.buckets.add(before.bucket_start)
            if after is not None:
                fresh.append(after)
                result.buckets.add(after["bucket_start"])
        if stale:
            session.execute(delete(ReportFact).where(ReportFact.kind == kind,
                                                     ReportFact.source_id.in_(stale)))
        if fresh:
            # Core insert: many rows per statement, no ORM bookkeeping.
            session.execute(ReportFact.__table__.insert(), fresh)
        result.facts_written += len(fresh)


def _same(row, fact: dict) -> bool:
    names = ("bucket_start", "channel", "queue", "department", "guide_id") + MEASURES
    return all(getattr(row, n) == fact[n] for n in names)


def _call_facts(session: Session, ids: list, d: Definitions) -> dict[str, dict]:
    departments = dict(session.execute(
        select(Queue.slug, Department.slug).join(Department, Queue.department_id
                                                 == Department.id)).all())
    rows = session.execute(
        select(Call.id, Call.entered_at, Call.outcome, Call.wait_s, Call.talk_s, Call.hold_s,
               Call.acw_s, Call.transferred, Call.queue, Call.agent_user_id,
               Case.resolved_at_first_contact)
        .outerjoin(Case, Case.id == Call.case_id).where(Call.id.in_(ids))).all()
    out = {}
    for row in rows:
        fact = fact_rules.call_fact(row, row.resolved_at_first_contact,
                                    departments.get(row.queue, ""), d)
        if fact is not None:
            out[fact["source_id"]] = fact
    return out


def _case_facts(session: Session, ids: list, d: Definitions,
                calendar: BusinessCalendar) -> dict[str, dict]:
    department = aliased(Department)
    rows = session.execute(
        select(Case.id, Case.channel, Case.kind, Case.received_at, Case.first_response_at,
               Case.resolved_at, Case.resolved_at_first_contact, Case.contact_id,
               Case.category_id, Case.assignee_id, Queue.slug.label("queue"),
               department.slug.label("department"), FeedbackResponse.courtesy,
               FeedbackResponse.ease, FeedbackResponse.clarity)
        .outerjoin(Queue, Queue.id == Case.queue_id)
        .outerjoin(department, department.id == Case.department_id)
        .outerjoin(FeedbackResponse, FeedbackResponse.case_id == Case.id)
        .where(Case.id.in_(ids))).all()
    repeats = _repeat_index(session, rows, d.repeat_days)
    out = {}
    for row in rows:
        fact = fact_rules.case_fact(row, repeats, d, calendar)
        if fact is not None:
            out[fact["source_id"]] = fact
    return out


def _repeat_index(session: Session, rows, days: int) -> RepeatIndex:
    """Later inquiries of the same contacts, for the rows' repeat-contact flags."""
    with_contact = [r for r in rows if r.contact_id is not None]
    if not with_contact:
        return RepeatIndex([])
    low = min(r.received_at for r in with_contact)
    high = max(r.received_at for r in with_contact) + timedelta(days=days)
    found = []
    contacts = sorted({r.contact_id for r in with_contact})
    for group in _chunks(contacts):
        found += session.execute(
            select(Case.contact_id, Case.category_id, Case.received_at)
            .where(Case.contact_id.in_(group), Case.kind == "inquiry",
                   Case.received_at > low, Case.received_at <= high)).all()
    return RepeatIndex(found)


def _sum_cells(session: Session, result: RefreshResult) -> None:
    """Sum the touched buckets' facts into cells, then the touched days' cells."""
    if result.rebuilt:
        _insert_sums(session, RollupCell, ReportFact, ("bucket_start", "guide_id", "local_date"),
                     None)
        _insert_sums(session, RollupDay, RollupCell, ("local_date",), None)
        result.days = set(session.scalars(select(RollupDay.local_date).distinct()))
        result.buckets |= set(session.scalars(select(RollupCell.bucket_start).distinct()))
        _sum_hours(session, None)
        return
    buckets = sorted(result.buckets)
    for chunk in _chunks(buckets, 500):
        session.execute(delete(RollupCell).where(RollupCell.bucket_start.in_(chunk)))
        _insert_sums(session, RollupCell, ReportFact, ("bucket_start", "guide_id", "local_date"),
                     ReportFact.bucket_start.in_(chunk))
    result.days = {fact_rules.bucket_of(b)[1] for b in buckets}
    for chunk in _chunks(sorted(result.days), 500):
        session.execute(delete(RollupDay).where(RollupDay.local_date.in_(chunk)))
        _insert_sums(session, RollupDay, RollupCell, ("local_date",),
                     RollupCell.local_date.in_(chunk))
        session.execute(delete(RollupHour).where(RollupHour.local_date.in_(chunk)))
        _sum_hours(session, chunk)


def _sum_hours(session: Session, days: list[date] | None) -> None:
    """Sum the days' phone cells (every day's: None) into hour cells. The Stockholm hour
    of a bucket is found here, in Python, as the heatmap read it: the same on both
    databases and on the days the clock changes."""
    query = (select(RollupCell.bucket_start, RollupCell.local_date, RollupCell.queue,
                    RollupCell.department, func.sum(RollupCell.calls_offered),
                    func.sum(RollupCell.calls_answered))
             .where(RollupCell.channel == "phone", RollupCell.calls_offered > 0)
             .group_by(RollupCell.bucket_start, RollupCell.local_date, RollupCell.queue,
                       RollupCell.department))
    if days is not None:
        query = query.where(RollupCell.local_date.in_(days))
    zone, hours, sums = local_zone(), {}, {}
    for bucket, day, queue, department, offered, answered in session.execute(query):
        hour_start = bucket.replace(minute=0)
        hour = hours.get(hour_start)
        if hour is None:
            hour = hours[hour_start] = hour_start.astimezone(zone).hour
        row = sums.setdefault((day, hour, queue, department), [0, 0])
        row[0] += offered or 0
        row[1] += answered or 0
    rows = [{"local_date": day, "hour": hour, "queue": queue, "department": department,
             "calls_offered": offered, "calls_answered": answered}
            for (day, hour, queue, department), (offered, answered) in sums.items()]
    for chunk in _chunks(rows, 5000):
        session.execute(insert(RollupHour), chunk)


def _insert_sums(session: Session, target, source, keys: Iterable[str], where) -> None:
    keys = tuple(keys) + DIMENSIONS
    columns = [getattr(source, k) for k in keys]
    aggregates = [(func.max if m in MAXIMA else func.sum)(getattr(source, m)).label(m)
                  for m in MEASURES]
    query = select(*columns, *aggregates).group_by(*columns)
    if where is not None:
        query = query.where(where)
    session.execute(insert(target).from_select(list(keys) + list(MEASURES), query))
