"""The opening hours a reply quotes: from the calendar of the case's service point or
channel, in Swedish ("måndag–fredag 08:00–17:00")."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.cases.models import Case
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.models import SlaCalendar
from citizencenter.sla.enums import WEEKDAYS

DAY_NAMES = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
# The calendar a case without its own service point's or channel's calendar quotes.
FALLBACK_CALENDAR = "kontorstid"


def _calendar(session: Session, case: Case) -> SlaCalendar | None:
    if case.service_point_id is not None:
        calendar = session.scalar(select(SlaCalendar).where(
            SlaCalendar.service_point_id == case.service_point_id).order_by(SlaCalendar.id))
        if calendar is not None:
            return calendar
    calendar = session.scalar(select(SlaCalendar).where(
        SlaCalendar.channel == case.channel, SlaCalendar.service_point_id.is_(None))
        .order_by(SlaCalendar.id))
    return calendar or session.scalar(select(SlaCalendar).where(
        SlaCalendar.slug == FALLBACK_CALENDAR))


def describe(weekly_hours: dict) -> str:
    """Weekly hours as a Swedish line, runs of days with the same hours joined."""
    runs: list[tuple[int, int, tuple]] = []
    for index, day in enumerate(WEEKDAYS):
        spans = tuple(weekly_hours.get(day) or ())
        if not spans:
            continue
        if runs and runs[-1][1] == index - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], index, spans)
        else:
            runs.append((index, index, spans))
    if not runs:
        return "stängt"
    parts = []
    for first, last, spans in runs:
        days = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}–{DAY_NAMES[last]}"
        parts.append(f"{days} {', '.join(s.replace('-', '–') for s in spans)}")
    return "; ".join(parts)


def opening_hours_text(session: Session, case: Case) -> str:
    """The opening hours that apply to a case, as a reply quotes them ("" if none)."""
    calendar = _calendar(session, case)
    if calendar is None:
        return ""
    return describe(calendars.current_version(calendar).weekly_hours)
