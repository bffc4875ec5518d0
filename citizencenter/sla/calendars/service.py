"""Business calendars kept as data: create, change (a new version each time), read, build."""

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.errors import AppError, InvalidInput, NotFound, PreconditionFailed
from citizencenter.organisation.models import ServicePoint
from citizencenter.pagination import Page, Paginator
from citizencenter.sla.calendars.calendar import BusinessCalendar, always_open_calendar
from citizencenter.sla.calendars.models import SlaCalendar, SlaCalendarVersion
from citizencenter.sla.calendars.swedish_holidays import SHORTENED_EVES, named_days
from citizencenter.sla.enums import OPEN_STATUSES, WEEKDAYS
from citizencenter.sla.permissions import require_manager

HOURS_FIELDS = ("timezone", "swedish_holidays", "weekly_hours", "closed_dates",
                "shortened_days")


class CalendarExists(AppError):
    status, title, slug = 409, "Calendar exists", "calendar-exists"


def build(version: SlaCalendarVersion | None) -> BusinessCalendar:
    """Build the calendar object of a stored version; None is the 24/7 calendar."""
    if version is None:
        return always_open_calendar()
    return business_calendar(version.weekly_hours, timezone=version.timezone,
                             swedish_holidays=version.swedish_holidays,
                             closed_dates=version.closed_dates,
                             shortened_days=version.shortened_days,
                             version=f"{version.calendar_id}/{version.version}")


def business_calendar(weekly_hours: dict, *, timezone: str, swedish_holidays: bool,
                      closed_dates: list, shortened_days: dict, version: str = "1"
                      ) -> BusinessCalendar:
    """Build a calendar from stored or submitted hours; a ValueError says what is wrong."""
    return BusinessCalendar.create(
        {WEEKDAYS.index(day): specs for day, specs in weekly_hours.items() if specs},
        timezone=timezone, swedish_holidays=swedish_holidays,
        closed_dates=[_date(d) for d in closed_dates],
        shortened_days={_day_or_eve(d): specs for d, specs in shortened_days.items()},
        version=version)


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _day_or_eve(value) -> date | str:
    """A shortened day is a date or, every year, one of the eves ("valborgsmassoafton")."""
    return value if value in SHORTENED_EVES else _date(value)


def _stored_hours(data: dict) -> dict:
    """The hours in their JSON form: ISO dates, intervals as HH:MM-HH:MM strings."""
    return {
        "timezone": data["timezone"],
        "swedish_holidays": data["swedish_holidays"],
        "weekly_hours": {day: data["weekly_hours"].get(day, []) for day in WEEKDAYS
                         if data["weekly_hours"].get(day)},
        "closed_dates": sorted(_date(d).isoformat() for d in data["closed_dates"]),
        "shortened_days": dict(sorted(
            (d if d in SHORTENED_EVES else _date(d).isoformat(), specs)
            for d, specs in data["shortened_days"].items())),
    }


def _check(hours: dict) -> None:
    try:
        business_calendar(**hours)
    except ValueError as exc:
        field = "weekly_hours" if "open at some time" in str(exc) else "shortened_days"
        raise InvalidInput(field, str(exc)) from None


def _service_point(session: Session, slug: str | None) -> ServicePoint | None:
    if slug is None:
        return None
    point = session.scalar(select(ServicePoint).where(ServicePoint.slug == slug))
    if point is None:
        raise InvalidInput("service_point", f"Unknown service point {slug!r}.")
    return point


def current_version(calendar: SlaCalendar) -> SlaCalendarVersion:
    return calendar.versions[-1]


def _snapshot(calendar: SlaCalendar) -> dict:
    """What the trail keeps of a calendar: its details and its current hours."""
    latest = current_version(calendar)
    return {"name": calendar.name, "channel": calendar.channel,
            "service_point": getattr(calendar.service_point, "slug", None),
            "version": latest.version, **{name: getattr(latest, name) for name in HOURS_FIELDS}}


def add_calendar(session: Session, actor: str, data: dict) -> SlaCalendar:
    """Add a calendar and its first version to the caller's transaction."""
    hours = _stored_hours(data)
    _check(hours)
    if session.scalar(select(SlaCalendar.id).where(SlaCalendar.slug == data["slug"])):
        raise CalendarExists(f"A calendar {data['slug']!r} exists; change it with PUT.")
    calendar = SlaCalendar(slug=data["slug"], name=data["name"], channel=data.get("channel"),
                           service_point=_service_point(session, data.get("service_point")))
    calendar.versions.append(SlaCalendarVersion(version=1, created_by=actor, **hours))
    session.add(calendar)
    session.flush()
    audit.record(session, actor, "sla_calendar.created", "sla_calendar", calendar.slug,
                 new=_snapshot(calendar))
    return calendar


def create_calendar(session: Session, actor: Principal, data: dict) -> SlaCalendar:
    """Create a business calendar (supervisors and admins)."""
    require_manager(actor)
    calendar = add_calendar(session, actor.actor, data)
    session.commit()
    return calendar


def replace_calendar(session: Session, actor: Principal, slug: str, data: dict, *,
                     expected_version: int | None = None) -> SlaCalendar:
    """Change a calendar's hours and details; the hours become a new version.

    `expected_version` (If-Match, or the version a form was drawn from): refused with 412
    when the hours have changed since, nothing saved."""
    require_manager(actor)
    calendar = get_calendar(session, slug)
    if expected_version is not None and expected_version != calendar.current_version:
        raise PreconditionFailed(f"The calendar is at version {calendar.current_version}, "
                                 f"not {expected_version}; read it again.")
    hours = _stored_hours(data)
    _check(hours)
    before = _snapshot(calendar)
    calendar.name = data["name"]
    calendar.channel = data.get("channel")
    calendar.service_point = _service_point(session, data.get("service_point"))
    latest = current_version(calendar)
    if {name: getattr(latest, name) for name in HOURS_FIELDS} != hours:
        calendar.current_version += 1
        calendar.versions.append(SlaCalendarVersion(
            version=calendar.current_version, created_by=actor.actor, **hours))
    audit.record_changes(session, actor.actor, "sla_calendar.changed", "sla_calendar", slug,
                         before, _snapshot(calendar))
    session.commit()
    return calendar


def get_calendar(session: Session, slug: str) -> SlaCalendar:
    calendar = session.scalar(select(SlaCalendar).where(SlaCalendar.slug == slug))
    if calendar is None:
        raise NotFound("No such calendar.")
    return calendar


def list_calendars(session: Session, paginator: Paginator, limit: int | None = None,
                   cursor: str | None = None) -> Page:
    """Page through calendars by slug."""
    return paginator.page(session, select(SlaCalendar), (SlaCalendar.slug,),
                          to_key=lambda c: [c.slug], from_key=lambda k: (str(k[0]),),
                          filters={"list": "sla_calendars"}, limit=limit, cursor=cursor,
                          descending=False)



def timer_use(session: Session, calendar: SlaCalendar) -> dict:
    """Which SLA timers use which version of the calendar.

    A timer takes the version current when it starts (`clocks.start`) and keeps it for
    good, also when it is resumed after a pause; so after a change the timers started
    from then on use the new version, those already running or paused keep theirs.
    Returns the current version, the open timers per version and the active policies
    (their names) that count in this calendar."""
    from citizencenter.sla.models import SlaPolicy, SlaTimer  # the models use this package

    open_by_version = dict(session.execute(
        select(SlaCalendarVersion.version, func.count(SlaTimer.id))
        .join(SlaTimer, SlaTimer.calendar_version_id == SlaCalendarVersion.id)
        .where(SlaCalendarVersion.calendar_id == calendar.id,
               SlaTimer.status.in_(OPEN_STATUSES))
        .group_by(SlaCalendarVersion.version)).all())
    policies = list(session.scalars(
        select(SlaPolicy.name).where(SlaPolicy.calendar_id == calendar.id,
                                     SlaPolicy.active.is_(True)).order_by(SlaPolicy.name)))
    return {"version": calendar.current_version, "open_timers": open_by_version,
            "policies": policies}


def month(version: SlaCalendarVersion, year: int, month_: int) -> list[dict]:
    """Each day of a month with the hours the clocks count on it (empty: closed), and
    the holiday or eve it is, computed by the calendar the timers build."""
    calendar = build(version)
    first = date(year, month_, 1)
    names = named_days(year)
    days, day = [], first
    while day.month == month_:
        hours = calendar.hours_on(day)
        days.append({"date": day, "hours": [str(i) for i in hours],
                     "name": names.get(day),
                     "special": hours != calendar.weekly_hours[day.weekday()]})
        day += timedelta(days=1)
    return days


def holidays_ahead(version: SlaCalendarVersion, start: date, days: int = 365) -> list[dict]:
    """The Swedish holidays and eves from `start` on, with the calendar's hours on each."""
    calendar = build(version)
    end = start + timedelta(days=days)
    named = {**named_days(start.year), **named_days(end.year)}
    return [{"date": day, "name": name, "hours": [str(i) for i in calendar.hours_on(day)]}
            for day, name in sorted(named.items()) if start <= day < end]
