"""One case's timers: start, pause, resume, fulfil and stop, each written to the ledger.

Due and warning times are computed from the timer's own snapshot (target, calendar
version, pauses), so a result can always be recomputed the way it was first computed.
Helpers here never commit; they work in the caller's transaction.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from citizencenter.cases.models import Case
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.calendar import BusinessCalendar
from citizencenter.sla.enums import OPEN_STATUSES, LedgerEvent, TargetUnit, TimerStatus
from citizencenter.sla.models import SlaLedgerEntry, SlaPolicy, SlaTimer

UNIT_SECONDS = {TargetUnit.MINUTES: 60, TargetUnit.HOURS: 3600}
Pause = tuple[datetime, datetime]


def calendar_of(timer: SlaTimer) -> BusinessCalendar:
    return calendars.build(timer.calendar_version)


def deadlines(calendar: BusinessCalendar, started_at: datetime, target_value: int,
              target_unit: TargetUnit, warn_at_percent: int, pauses: list[Pause]
              ) -> tuple[timedelta, datetime, datetime]:
    """Return (open time allowed, due time, warning time), pushed back by the pauses."""
    if target_unit == TargetUnit.WORKING_DAYS:
        base_due = calendar.add_business_days(started_at, target_value)
        budget = calendar.business_time_between(started_at, base_due)
    else:
        budget = timedelta(seconds=target_value * UNIT_SECONDS[target_unit])
        base_due = calendar.add_business_time(started_at, budget)
    # Without pauses keep the exact working-day rule (same clock time N days later).
    due_at = calendar.due_at_with_pauses(started_at, budget, pauses) if pauses else base_due
    warn_at = calendar.due_at_with_pauses(started_at, budget * warn_at_percent / 100, pauses)
    return budget, due_at, warn_at


def record(session: Session, timer: SlaTimer, event: LedgerEvent, at: datetime,
           **details) -> None:
    session.add(SlaLedgerEntry(timer=timer, case_id=timer.case_id, event=event,
                               occurred_at=at, due_at=timer.due_at, details=details))


def start(session: Session, case: Case, policy: SlaPolicy, at: datetime) -> SlaTimer:
    """Start a timer for `case` under `policy` at `at`."""
    version = calendars.current_version(policy.calendar) if policy.calendar else None
    calendar = calendars.build(version)
    budget, due_at, warn_at = deadlines(calendar, at, policy.target_value, policy.target_unit,
                                        policy.warn_at_percent, [])
    timer = SlaTimer(case_id=case.id, policy_id=policy.id, metric=policy.metric,
                     calendar_version=version, target_value=policy.target_value,
                     target_unit=policy.target_unit, target_s=int(budget.total_seconds()),
                     warn_at_percent=policy.warn_at_percent,
                     pause_statuses=list(policy.pause_statuses or []), started_at=at,
                     due_at=due_at, warn_at=warn_at)
    session.add(timer)
    record(session, timer, LedgerEvent.STARTED, at, policy=policy.slug,
           calendar_version=version.version if version else None)
    return timer


def start_many(session: Session, starts: list[tuple[Case, SlaPolicy, datetime]]
               ) -> list[dict]:
    """Start many timers at once, as `start` does one: (case, policy, at) each.

    Two Core inserts whatever their number (the timers with ids taken beforehand, then
    their ledger rows), each policy's calendar built once. Returns the timers' rows
    (id, case_id, metric, due_at, …) in the order given. Adds to the caller's transaction.
    """
    if not starts:
        return []
    built: dict[int, tuple] = {}
    timers, ledger = [], []
    for case, policy, at in starts:
        if policy.id not in built:
            version = calendars.current_version(policy.calendar) if policy.calendar else None
            built[policy.id] = (version, calendars.build(version))
        version, calendar = built[policy.id]
        budget, due_at, warn_at = deadlines(calendar, at, policy.target_value,
                                            policy.target_unit, policy.warn_at_percent, [])
        timers.append({
            "case_id": case.id, "policy_id": policy.id, "metric": policy.metric,
            "calendar_version_id": version.id if version else None,
            "target_value": policy.target_value, "target_unit": policy.target_unit,
            "target_s": int(budget.total_seconds()), "warn_at_percent": policy.warn_at_percent,
            "pause_statuses": list(policy.pause_statuses or []), "started_at": at,
            "due_at": due_at, "warn_at": warn_at})
        ledger.append({"case_id": case.id, "event": LedgerEvent.STARTED, "occurred_at": at,
                       "due_at": due_at, "details": {
                           "policy": policy.slug,
                           "calendar_version": version.version if version else None}})
    # The timers' ids are taken first, so the rows go as one executemany without
    # RETURNING (a RETURNING insert of many rows costs far more to build, and SQLite
    # would send it row by row).
    table = SlaTimer.__table__
    if session.get_bind().dialect.name == "postgresql":
        ids = sorted(session.scalars(
            select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
            .select_from(func.generate_series(1, len(timers)))))
    else:  # SQLite: this transaction is the only writer (db.py), the next ids are free
        first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + len(timers)))
    for row, id_ in zip(timers, ids, strict=True):
        row["id"] = id_
    session.execute(insert(table), timers)
    for row, entry in zip(timers, ledger, strict=True):
        entry["timer_id"] = row["id"]
    session.execute(insert(SlaLedgerEntry.__table__), ledger)
    return timers


def pauses_of(session: Session, timer: SlaTimer) -> list[Pause]:
    """The finished pauses of a timer, read back from its ledger."""
    entries = session.execute(
        select(SlaLedgerEntry.event, SlaLedgerEntry.occurred_at)
        .where(SlaLedgerEntry.timer_id == timer.id,
               SlaLedgerEntry.event.in_([LedgerEvent.PAUSED, LedgerEvent.RESUMED]))
        .order_by(SlaLedgerEntry.id)).all()
    pauses, paused_at = [], None
    for event, occurred_at in entries:
        if event == LedgerEvent.PAUSED:
            paused_at = occurred_at
        elif paused_at is not None:
            pauses.append((paused_at, occurred_at))
            paused_at = None
    return pauses


def pause(session: Session, timer: SlaTimer, at: datetime, status: str) -> None:
    if timer.status != TimerStatus.RUNNING:
        return
    timer.status, timer.paused_since = TimerStatus.PAUSED, at
    record(session, timer, LedgerEvent.PAUSED, at, status=status)


def resume(session: Session, timer: SlaTimer, at: datetime, status: str | None = None) -> None:
    """Restart a paused timer; its due time moves by the open time spent paused."""
    if timer.status != TimerStatus.PAUSED:
        return
    session.flush()
    pauses = [*pauses_of(session, timer), (timer.paused_since, max(at, timer.paused_since))]
    calendar = calendar_of(timer)
    _, timer.due_at, timer.warn_at = deadlines(calendar, timer.started_at, timer.target_value,
                                               timer.target_unit, timer.warn_at_percent, pauses)
    timer.paused_s = int(sum((calendar.business_time_between(a, b) for a, b in pauses),
                             timedelta()).total_seconds())
    timer.status, timer.paused_since = TimerStatus.RUNNING, None
    record(session, timer, LedgerEvent.RESUMED, at, status=status,
           paused_s=timer.paused_s)


def finish(session: Session, timer: SlaTimer, at: datetime, *, fulfilled: bool,
           **details) -> None:
    """Fulfil the timer (its goal was met) or stop it (no longer needed)."""
    if timer.status not in OPEN_STATUSES:
        return
    resume(session, timer, at)
    if fulfilled:
        timer.status, timer.fulfilled_at = TimerStatus.FULFILLED, at
        details["within_target"] = at <= timer.due_at
        record(session, timer, LedgerEvent.FULFILLED, at, **details)
    else:
        timer.status, timer.stopped_at = TimerStatus.STOPPED, at
        record(session, timer, LedgerEvent.STOPPED, at, **details)
