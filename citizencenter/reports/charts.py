"""The figures behind the service measurement's charts that the report itself does not
hold: calls per hour of the weekday and the written answers' response-time distribution.
Both read rollups only, never facts, calls, cases or messages: whole days from the hour
and day cells, a period's ragged edges from the 15-minute cells."""

import threading
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import Department
from citizencenter.config import local_zone
from citizencenter.errors import InvalidInput
from citizencenter.organisation.models import Queue
from citizencenter.reports import cells
from citizencenter.reports.models import (
    CALENDAR_BIN_COUNTS,
    CALENDAR_BINS,
    OFFICE_BIN_COUNTS,
    OFFICE_BINS,
    RollupCell,
    RollupHour,
    RollupState,
)
from citizencenter.reports.service_measurement import (
    WRITTEN,
    ReportSettings,
    period_problem,
    service_measurement,
)

# CALENDAR_BINS and OFFICE_BINS (models) bound the distribution's bins.
OFFICE_DAY_HOURS = 9  # weekdays 08–17: one working day of office time
# The report page's figures for the current rollup state, per question (measurement_page),
# per process. A year by day holds about 1.3 MB of figures: a few questions are kept.
PAGE_CACHE_SIZE = 8
_PAGE_CACHE: OrderedDict = OrderedDict()
_PAGE_LOCK = threading.Lock()


def _check(start: datetime, end: datetime) -> None:
    problem = period_problem(start, end, None)
    if problem:
        raise InvalidInput(*problem)


def _filtered(query, model, filters: dict):
    for name in ("channel", "queue", "department"):
        if filters.get(name):
            query = query.where(getattr(model, name) == filters[name])
    return query


def calls_by_weekday_hour(session: Session, start: datetime, end: datetime, *,
                          queue: str | None = None, department: str | None = None) -> dict:
    """Offered and answered calls of [start, end) per Stockholm weekday (0 = Monday) and
    hour, as the report counts them (short abandons left out of offered)."""
    _check(start, end)
    filters = {"queue": queue, "department": department}
    offered = [[0] * 24 for _ in range(7)]
    answered = [[0] * 24 for _ in range(7)]
    days = cells.whole_days(start, end)
    ranges = [(start, end)] if days is None else [
        (start, cells.local_midnight(days[0])), (cells.local_midnight(days[1]), end)]
    zone, places = local_zone(), {}
    for low, high in ranges:
        if low >= high:
            continue
        query = (select(RollupCell.bucket_start, func.sum(RollupCell.calls_offered),
                        func.sum(RollupCell.calls_answered))
                 .where(RollupCell.bucket_start >= low, RollupCell.bucket_start < high,
                        RollupCell.channel == "phone", RollupCell.calls_offered > 0)
                 .group_by(RollupCell.bucket_start))
        for bucket, n_offered, n_answered in session.execute(
                _filtered(query, RollupCell, filters)):
            hour_start = bucket.replace(minute=0)
            place = places.get(hour_start)
            if place is None:
                local = hour_start.astimezone(zone)
                place = places[hour_start] = (local.weekday(), local.hour)
            offered[place[0]][place[1]] += n_offered or 0
            answered[place[0]][place[1]] += n_answered or 0
    if days is not None:  # whole days from the hour cells, summed per weekday there
        query = (select(RollupHour.local_date, RollupHour.hour,
                        func.sum(RollupHour.calls_offered), func.sum(RollupHour.calls_answered))
                 .where(RollupHour.local_date >= days[0], RollupHour.local_date < days[1])
                 .group_by(RollupHour.local_date, RollupHour.hour))
        for day, hour, n_offered, n_answered in session.execute(
                _filtered(query, RollupHour, filters)):
            offered[day.weekday()][hour] += n_offered or 0
            answered[day.weekday()][hour] += n_answered or 0
    return {"from": start.isoformat(), "to": end.isoformat(), "offered": offered,
            "answered": answered, "total_offered": sum(map(sum, offered)),
            "total_answered": sum(map(sum, answered))}


def response_time_distribution(session: Session, start: datetime, end: datetime, *,
                               channel: str | None = None, queue: str | None = None,
                               department: str | None = None,
                               answer_within_hours: int = 24) -> dict:
    """How long written inquiries received in [start, end) waited for their first human
    reply: counts per bin of calendar hours and of office hours, and the unanswered."""
    _check(start, end)
    channels = (channel,) if channel else WRITTEN
    totals = cells.empty()
    for (_, c, _), t in cells.sums(session, start, end, {
            "channel": channel, "queue": queue, "department": department}).items():
        if c in channels:
            cells.add(totals, t)
    bins = []
    for names, bounds in ((CALENDAR_BIN_COUNTS, CALENDAR_BINS),
                          (OFFICE_BIN_COUNTS, OFFICE_BINS)):
        lows = (0, *bounds)
        bins.append([{"from_hours": low, "to_hours": high, "n": int(totals[name])}
                     for name, low, high in zip(names, lows, (*bounds, None), strict=True)])
    received, responded = int(totals["cases"]), int(totals["cases_responded"])
    return {"from": start.isoformat(), "to": end.isoformat(), "channels": list(channels),
            "received": received, "answered": responded, "unanswered": received - responded,
            "calendar_hours": bins[0], "office_hours": bins[1],
            "marks": {"calendar_hours": answer_within_hours,
                      "office_hours": [OFFICE_DAY_HOURS, 2 * OFFICE_DAY_HOURS]}}


def filter_choices(session: Session) -> dict:
    """The queues and departments a report can be filtered by: (slug, name), by name."""
    return {"queues": session.execute(select(Queue.slug, Queue.name)
                                      .order_by(Queue.name)).all(),
            "departments": session.execute(select(Department.slug, Department.name)
                                           .order_by(Department.name)).all()}


def measurement_page(session: Session, start: datetime, end: datetime,
                     settings: ReportSettings, *, interval: str, channel: str | None = None,
                     queue: str | None = None, department: str | None = None) -> dict:
    """Everything the report page shows for [start, end): the service measurement with
    its time series, calls per weekday and hour, and the response-time distribution.

    The rollups change only when they are refreshed, so the figures are kept per process
    for the rollup state they were read at; the next refresh makes them be read again."""
    state = session.scalar(select(RollupState.refreshed_at).where(RollupState.id == 1))
    key = (state, start, end, interval, channel, queue, department, settings.definitions,
           settings.formula, tuple(sorted(settings.targets.values.items())),
           settings.comparable_n)
    with _PAGE_LOCK:
        if key in _PAGE_CACHE:
            _PAGE_CACHE.move_to_end(key)
            return _PAGE_CACHE[key]
    figures = _measurement_page(session, start, end, settings, interval=interval,
                                channel=channel, queue=queue, department=department)
    with _PAGE_LOCK:
        if state is not None:  # the state only moves on: pages read before it are dead
            for stale in [k for k in _PAGE_CACHE if k[0] is None or k[0] < state]:
                del _PAGE_CACHE[stale]
        _PAGE_CACHE[key] = figures
        while len(_PAGE_CACHE) > PAGE_CACHE_SIZE:
            _PAGE_CACHE.popitem(last=False)
    return figures


def _measurement_page(session: Session, start: datetime, end: datetime,
                      settings: ReportSettings, *, interval: str, channel: str | None,
                      queue: str | None, department: str | None) -> dict:
    report = service_measurement(session, start, end, settings, channel=channel, queue=queue,
                                 department=department, interval=interval)
    return {
        "report": report,
        "calls_by_weekday_hour": calls_by_weekday_hour(session, start, end, queue=queue,
                                                       department=department),
        "distribution": response_time_distribution(
            session, start, end, channel=channel or "email",
            queue=queue, department=department,
            answer_within_hours=settings.definitions.answer_within_hours),
    }
