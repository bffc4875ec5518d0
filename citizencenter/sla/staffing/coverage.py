"""Were there guides enough? The guides needed per weekday and hour (the call forecast and
Erlang C) beside the guides that were actually staffed then, from the presence history.

The presence history is the audit trail's `guide.presence_changed` entries (each holds the
presence before and after). A guide counts as staffed while available or busy; the phone
system's own busy/available switches are both staffed, so the manual changes tell when a
guide logged in and out. Each hour's figure is the mean number of guides staffed in it
(guide-hours over the window divided by its weeks).
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.audit.models import AuditEntry
from citizencenter.sla.enums import WEEKDAYS
from citizencenter.sla.staffing.service import forecast_calls

PRESENCE_CHANGED = "guide.presence_changed"
STAFFED = frozenset({"available", "busy"})


def _changes(session: Session, start: datetime, end: datetime) -> dict[str, list]:
    """Per guide: (moment, presence) — the presence at `start`, then each change."""
    before = (select(func.max(AuditEntry.id)).where(
        AuditEntry.action == PRESENCE_CHANGED, AuditEntry.entity_type == "user",
        AuditEntry.occurred_at < start).group_by(AuditEntry.entity_id))
    out: dict[str, list] = defaultdict(list)
    for guide, data in session.execute(select(AuditEntry.entity_id, AuditEntry.data)
                                       .where(AuditEntry.id.in_(before))):
        out[guide].append((start, data.get("to")))
    for guide, at, data in session.execute(
            select(AuditEntry.entity_id, AuditEntry.occurred_at, AuditEntry.data)
            .where(AuditEntry.action == PRESENCE_CHANGED, AuditEntry.entity_type == "user",
                   AuditEntry.occurred_at >= start, AuditEntry.occurred_at < end)
            .order_by(AuditEntry.occurred_at, AuditEntry.id)):
        if not out[guide]:
            out[guide].append((start, data.get("from")))
        out[guide].append((at, data.get("to")))
    return out


def _spread(totals: dict, begin: datetime, end: datetime, zone: ZoneInfo) -> None:
    """Add the seconds of [begin, end) to the local (weekday, hour) slots they fall in."""
    cursor = begin
    while cursor < end:
        local = cursor.astimezone(zone)
        boundary = (local.replace(minute=0, second=0, microsecond=0)
                    + timedelta(hours=1)).astimezone(begin.tzinfo)
        step_end = min(end, boundary)
        totals[(local.weekday(), local.hour)] += (step_end - cursor).total_seconds()
        cursor = step_end


def staffed_per_hour(session: Session, first: date, last: date, zone: ZoneInfo,
                     weeks: int) -> dict[tuple[int, int], float]:
    """Mean guides staffed per (weekday, hour) over the days [first, last]."""
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for changes in _changes(session, start, end).values():
        for (at, presence), (until, _) in zip(changes, [*changes[1:], (end, None)],
                                              strict=True):
            if presence in STAFFED and until > at:
                _spread(totals, at, until, zone)
    return {slot: seconds / 3600 / weeks for slot, seconds in totals.items()}


def coverage(session: Session, *, weeks: int, timezone: str, aht_s: float,
             target_service_level: float = 0.8, answer_within_s: float = 120,
             queue: str | None = None, today: date | None = None) -> dict:
    """Per weekday and hour with calls or guides: mean calls offered, guides needed for the
    service level (Erlang C, as the forecast gives them) and guides staffed; `understaffed`
    when fewer were staffed than needed."""
    forecast = forecast_calls(session, weeks=weeks, timezone=timezone, queue=queue, today=today,
                              aht_s=aht_s, target_service_level=target_service_level,
                              answer_within_s=answer_within_s)
    staffed = staffed_per_hour(session, forecast["from_"], forecast["to"], ZoneInfo(timezone),
                               weeks)
    needed = {(WEEKDAYS.index(row["weekday"]), int(row["interval_start"][:2])): row
              for row in forecast["intervals"]}
    hours = []
    for slot in sorted(set(needed) | {s for s, v in staffed.items() if v > 0}):
        row = needed.get(slot)
        agents = row["agents"] if row else 0
        available = round(staffed.get(slot, 0.0), 2)
        hours.append({"weekday": WEEKDAYS[slot[0]], "hour": slot[1],
                      "calls": row["calls"] if row else 0.0, "guides_needed": agents,
                      "guides_available": available,
                      "understaffed": agents is None or available < agents})
    return {"from_": forecast["from_"], "to": forecast["to"], "weeks": weeks, "queue": queue,
            "aht_s": aht_s, "target_service_level": target_service_level,
            "answer_within_s": answer_within_s, "total_calls": forecast["total_calls"],
            "hours": hours}
