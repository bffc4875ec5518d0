"""SLA clocks follow the case: case event subscribers, and the deadline scan.

`on_case_event` runs inside the publisher's transaction (`cases.events`) and never commits.
A new case's timers are not started in its intake transaction: the worker that routes
new cases starts them (`start_timers`), from `received_at`, so the figures are the same.
A case that changes before the worker got to it has its timers started first, as they
were at intake, and then the change is applied to them.
`scan_deadlines` is the public use case the beat task runs; it commits per batch.
"""

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from citizencenter import outbox
from citizencenter.audit import service as audit
from citizencenter.cases import events
from citizencenter.cases.enums import CaseKind, CaseStatus, Direction, Priority
from citizencenter.cases.models import Case, Message
from citizencenter.db import is_postgresql, utcnow
from citizencenter.sla import clocks, policies
from citizencenter.sla.enums import OPEN_STATUSES, LedgerEvent, Metric, NotificationKind
from citizencenter.sla.enums import TimerStatus as T
from citizencenter.sla.models import SlaNotification, SlaTimer

FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
# Met when the case is resolved; the reply metrics are no longer owed then.
MET_BY_RESOLUTION = (Metric.RESOLUTION, Metric.DEPARTMENT_RESOLUTION, Metric.CALLBACK)
MET_BY_REPLY = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.CALLBACK)
ESCALATION = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH,
              Priority.HIGH: Priority.URGENT}


def on_case_event(session: Session, case: Case, event: str, *,
                  previous: CaseStatus | None = None, message: Message | None = None,
                  at: datetime | None = None) -> None:
    """Start, pause, resume or fulfil the case's timers: `created`, `status_changed` (at
    `at`, default now) or `message_added`. Adds to the caller's transaction."""
    if event == "created":
        start_timers(session, [case])
    elif event == "status_changed":
        # Timers not started yet start as they would have at intake, before the change.
        start_timers(session, [case], status=previous)
        _status_changed(session, case, previous, at or utcnow())
    elif event == "message_added" and message is not None:
        start_timers(session, [case])
        _message_added(session, case, message)
    else:
        raise ValueError(f"unknown case event {event!r}")


def start_timers(session: Session, cases: list[Case], *,
                 status: CaseStatus | None = None) -> list[Case]:
    """Start the timers of cases whose timers never started, from their `received_at`.

    Once per case, however many workers and requests try: the conditional UPDATE marks
    the case, and only the transaction that marked it starts its timers (on PostgreSQL a
    second one waits for the first and then finds it marked; SQLite runs one writer at a
    time). `status`: the status the case had at intake, when it has changed since.
    Returns the cases started here. Adds to the caller's transaction.
    """
    pending = {case.id: case for case in cases if case.sla_started_at is None}
    if not pending:
        return []
    now = utcnow()
    won = set(session.scalars(
        update(Case).where(Case.id.in_(list(pending)), Case.sla_started_at.is_(None))
        .values(sla_started_at=now).returning(Case.id)
        .execution_options(synchronize_session=False)))
    lost = [case_id for case_id in pending if case_id not in won]
    if lost:  # started meanwhile by another transaction, whose timers we now see
        for case_id, started_at in session.execute(
                select(Case.id, Case.sla_started_at).where(Case.id.in_(lost))):
            set_committed_value(pending[case_id], "sla_started_at", started_at)
    started = [case for case_id, case in pending.items() if case_id in won]
    matches: dict = {}  # cases alike match the same policies: matched once a batch
    starts = []
    for case in started:
        set_committed_value(case, "sla_started_at", now)
        starts.extend(_intake_starts(session, case, status or case.status, matches))
    callbacks: dict = {}
    for timer in clocks.start_many(session, starts):  # a few statements for the batch
        if timer["metric"] == Metric.CALLBACK:
            callbacks.setdefault(timer["case_id"], []).append(timer["due_at"])
    for case in started:
        if case.kind == CaseKind.CALLBACK and case.id in callbacks:
            # The callback policy is the source of the citizen-facing due time.
            case.due_at = min(callbacks[case.id])
    return started


def _moved(session: Session, case: Case, *, previous: CaseStatus, **_data) -> None:
    """The status changed, the case went to a department or came back from one."""
    on_case_event(session, case, "status_changed", previous=previous)


def _message(session: Session, case: Case, *, message: Message, **_data) -> None:
    on_case_event(session, case, "message_added", message=message)


def subscribe_case_events() -> None:
    """Start, pause and fulfil the clocks as cases change (run at app start)."""
    # `created` is not here: the worker starts a new case's timers (`start_timers`).
    for event, handler in (("status_changed", _moved),
                           ("forwarded", _moved), ("returned", _moved),
                           ("message_added", _message)):
        events.subscribe(event, handler)


def department_due_at(session: Session, case: Case) -> datetime | None:
    """When the case's running department clock is due: the time its department is told.
    None when no department-resolution policy applies to the case."""
    return min((timer.due_at for timer in open_timers(session, case,
                                                      Metric.DEPARTMENT_RESOLUTION)),
               default=None)


def open_timers(session: Session, case: Case, *metrics: Metric) -> list[SlaTimer]:
    query = select(SlaTimer).where(SlaTimer.case_id == case.id,
                                   SlaTimer.status.in_(OPEN_STATUSES))
    if metrics:
        query = query.where(SlaTimer.metric.in_(metrics))
    return list(session.scalars(query.order_by(SlaTimer.id)))


def _start(session: Session, case: Case, metric: Metric, at: datetime) -> list[SlaTimer]:
    """Start the policies' timers for `metric` that are not running yet."""
    running = {t.policy_id for t in open_timers(session, case, metric)}
    return [clocks.start(session, case, policy, at)
            for policy in policies.matching_policies(session, case, metric)
            if policy.id not in running]


def _intake_starts(session: Session, case: Case, status: CaseStatus, matches: dict
                   ) -> list[tuple]:
    """The timers a new case starts from its `received_at`: (case, policy, at) each."""
    if status in FINISHED:
        return []
    first = Metric.CALLBACK if case.kind == CaseKind.CALLBACK else Metric.FIRST_RESPONSE
    metrics = [first, Metric.RESOLUTION]
    if status == CaseStatus.FORWARDED:
        metrics.append(Metric.DEPARTMENT_RESOLUTION)
    starts = []
    for metric in metrics:
        key = (metric, case.channel, case.priority, case.category_id, case.department_id)
        if key not in matches:  # cases alike match the same policies
            matches[key] = policies.matching_policies(session, case, metric)
        starts.extend((case, policy, case.received_at) for policy in matches[key])
    return starts


def _status_changed(session: Session, case: Case, previous: CaseStatus | None,
                    at: datetime) -> None:
    status = case.status
    if status in FINISHED:
        for timer in open_timers(session, case):
            clocks.finish(session, timer, at, fulfilled=timer.metric in MET_BY_RESOLUTION,
                          reason=f"case_{status.value}")
        return
    for timer in open_timers(session, case):
        if status.value in timer.pause_statuses:
            clocks.pause(session, timer, at, status.value)
        else:
            clocks.resume(session, timer, at, status.value)
    if previous in FINISHED and status == CaseStatus.OPEN:
        _start(session, case, Metric.RESOLUTION, at)  # reopened: a new resolution clock
    elif status == CaseStatus.FORWARDED:
        _start(session, case, Metric.DEPARTMENT_RESOLUTION, at)
    elif previous == CaseStatus.FORWARDED:
        for timer in open_timers(session, case, Metric.DEPARTMENT_RESOLUTION):
            clocks.finish(session, timer, at, fulfilled=False, reason="returned_from_department")


def counts_as_reply(message: Message) -> bool:
    """A reply written by a person; auto-acknowledgements and system messages never count."""
    return (message.direction == Direction.OUTBOUND and message.author_id is not None
            and not (message.channel_metadata or {}).get("auto"))


def _message_added(session: Session, case: Case, message: Message) -> None:
    if counts_as_reply(message):
        session.flush()
        for timer in open_timers(session, case, *MET_BY_REPLY):
            clocks.finish(session, timer, message.created_at, fulfilled=True,
                          message_id=message.id)
    elif message.direction == Direction.INBOUND and case.status not in FINISHED \
            and not open_timers(session, case, Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE,
                                Metric.CALLBACK):
        _start(session, case, Metric.NEXT_RESPONSE, message.created_at)


def _notify(session: Session, timer: SlaTimer, kind: NotificationKind) -> None:
    notification = SlaNotification(timer_id=timer.id, case_id=timer.case_id, kind=kind)
    session.add(notification)
    session.flush()
    outbox.enqueue(session, "sla.notification", {"notification_id": notification.id})


def _escalate(session: Session, timer: SlaTimer) -> dict:
    """Raise the case's priority one step, once per metric breached."""
    earlier = session.scalar(select(SlaTimer.id).where(
        SlaTimer.case_id == timer.case_id, SlaTimer.metric == timer.metric,
        SlaTimer.id != timer.id, SlaTimer.breached_at.is_not(None)).limit(1))
    case = session.get(Case, timer.case_id)
    raised = ESCALATION.get(case.priority)
    if earlier is not None or raised is None:
        return {}
    previous, case.priority = case.priority, raised
    audit.record(session, "system", "case.escalated", "case", case.id, timer_id=timer.id,
                 metric=timer.metric.value, **{"from": previous.value, "to": raised.value})
    return {"priority_from": previous.value, "priority_to": raised.value}


def _due_timers(session: Session, now: datetime, batch: int) -> list[SlaTimer]:
    query = (select(SlaTimer).where(
        SlaTimer.status == T.RUNNING, SlaTimer.breached_at.is_(None),
        or_(SlaTimer.due_at <= now, and_(SlaTimer.warned_at.is_(None), SlaTimer.warn_at <= now)))
        .order_by(SlaTimer.due_at, SlaTimer.id).limit(batch))
    if is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def scan_deadlines(session: Session, now: datetime | None = None, batch: int = 200) -> dict:
    """Warn about timers near their due time and breach (and escalate) overdue ones."""
    counts = {"warned": 0, "breached": 0}
    while True:
        now_ = now or utcnow()
        timers = _due_timers(session, now_, batch)
        if not timers:
            session.commit()
            return counts
        for timer in timers:
            if timer.due_at <= now_:
                timer.breached_at = timer.due_at
                clocks.record(session, timer, LedgerEvent.BREACHED, timer.due_at,
                              **_escalate(session, timer))
                _notify(session, timer, NotificationKind.BREACH)
                counts["breached"] += 1
            else:
                timer.warned_at = now_
                clocks.record(session, timer, LedgerEvent.WARNED, timer.warn_at,
                              warn_at_percent=timer.warn_at_percent)
                _notify(session, timer, NotificationKind.WARNING)
                counts["warned"] += 1
        session.commit()
