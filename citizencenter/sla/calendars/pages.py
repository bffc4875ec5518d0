"""Business calendars (`/admin/calendars`): each calendar's weekly hours, closed dates and
shortened days, edited through the service behind PUT /api/v1/sla/calendars/<slug> (a new
version when the hours change), with the Swedish holidays of the coming year, the version
history and a month view, all computed by the calendar the SLA clocks build."""

import re
from datetime import date, datetime

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError

from citizencenter import db
from citizencenter.api import paginator
from citizencenter.cases.enums import Channel
from citizencenter.errors import AppError, PreconditionFailed
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.schemas import CalendarBodySchema, CalendarCreateSchema
from citizencenter.sla.enums import WEEKDAYS
from citizencenter.sla.permissions import require_manager
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import ADMIN_SECTIONS

bp = PageBlueprint("calendar_pages", __name__, template_folder="templates")
ADMIN_SECTIONS.append(("calendar_pages.calendars", "admin.section.calendars", "sla:write"))
_SPLIT = re.compile(r"[,\s]+")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _manager():
    principal = current_principal()
    require_manager(principal)
    return principal


@bp.route("/admin/calendars", endpoint="calendars")
@login_required
def calendars_list():
    _manager()
    page = calendars.list_calendars(db.session, paginator(), limit=100,
                                    cursor=request.args.get("cursor") or None)
    return render_template("calendars/list.html", calendars=page.items,
                           next_cursor=page.next_cursor)


def _form_of(calendar) -> dict:
    """What the edit form shows for the calendar's current version."""
    current = calendars.current_version(calendar)
    return {
        "name": calendar.name, "timezone": current.timezone,
        "swedish_holidays": current.swedish_holidays, "version": str(current.version),
        **{f"weekly_{day}": ", ".join(current.weekly_hours.get(day, [])) for day in WEEKDAYS},
        "closed_dates": "\n".join(current.closed_dates),
        "shortened_days": "\n".join(f"{day} {', '.join(hours)}"
                                    for day, hours in current.shortened_days.items()),
    }


def _posted() -> dict:
    form = request.form
    shown = {name: form.get(name, "").strip() for name in
             ("name", "timezone", "version", "closed_dates", "shortened_days", "slug",
              "channel", *(f"weekly_{day}" for day in WEEKDAYS))}
    shown["swedish_holidays"] = form.get("swedish_holidays") == "on"
    return shown


def _body(shown: dict, calendar=None) -> tuple[dict, dict]:
    """The API body the form stands for, and errors by form field (text keys).

    For a new calendar (None) the body is POST /api/v1/sla/calendars's, with the slug and
    channel from the form."""
    errors: dict[str, str] = {}
    shortened: dict[str, list[str]] = {}
    for line in shown["shortened_days"].splitlines():
        if not line.strip():
            continue
        day, _, hours = line.strip().partition(" ")
        if not hours.strip() or day in shortened:
            errors["shortened_days"] = "calendars.error.shortened_days"
        shortened[day] = [h for h in _SPLIT.split(hours.strip()) if h]
    raw = {"name": shown["name"], "timezone": shown["timezone"] or "Europe/Stockholm",
           "swedish_holidays": shown["swedish_holidays"],
           "channel": (calendar.channel.value if calendar.channel else None) if calendar
           else shown["channel"] or None,
           "service_point": calendar.service_point.slug if calendar and calendar.service_point
           else None,
           "weekly_hours": {day: [h for h in _SPLIT.split(shown[f"weekly_{day}"]) if h]
                            for day in WEEKDAYS},
           "closed_dates": [d for d in _SPLIT.split(shown["closed_dates"]) if d],
           "shortened_days": shortened}
    if calendar is None:
        raw["slug"] = shown["slug"]
    try:
        data = (CalendarBodySchema() if calendar else CalendarCreateSchema()).load(raw)
    except ValidationError as error:
        for name, detail in error.messages.items():
            if name == "weekly_hours" and isinstance(detail, dict):
                errors.update({f"weekly_{day}": "calendars.error.hours" for day in detail})
            elif name == "weekly_hours":
                errors["weekly_monday"] = "calendars.error.closed_week"
            else:
                errors[name] = f"calendars.error.{name}"
        return {}, errors
    return data, errors


def _month_arg(calendar) -> date:
    match = _MONTH.match(request.args.get("month", ""))
    if match and 1 <= int(match[2]) <= 12 and 1900 < int(match[1]) < 3000:
        return date(int(match[1]), int(match[2]), 1)
    zone = calendars.build(calendars.current_version(calendar)).zone
    return datetime.now(zone).date().replace(day=1)


def _render(calendar, shown: dict, errors: dict, *, notice=None, status: int = 200):
    current = calendars.current_version(calendar)
    first = _month_arg(calendar)
    previous = (date(first.year - 1, 12, 1) if first.month == 1
                else date(first.year, first.month - 1, 1))
    following = (date(first.year + 1, 1, 1) if first.month == 12
                 else date(first.year, first.month + 1, 1))
    zone = calendars.build(current).zone
    return render_template(
        "calendars/calendar.html", calendar=calendar, shown=shown, errors=errors,
        notice=notice, weekdays=WEEKDAYS, use=calendars.timer_use(db.session, calendar),
        month=first, days=calendars.month(current, first.year, first.month),
        previous=previous, following=following,
        holidays=calendars.holidays_ahead(current, datetime.now(zone).date()),
        versions=list(reversed(calendar.versions))), status


def _render_new(shown: dict, errors: dict, status: int = 200):
    return render_template("calendars/new.html", shown=shown, errors=errors, weekdays=WEEKDAYS,
                           channels=list(Channel)), status


@bp.route("/admin/calendars/new", methods=["GET", "POST"])
@login_required
def new_calendar():
    """A new calendar through the service of POST /api/v1/sla/calendars (version 1)."""
    principal = _manager()
    if request.method == "GET":
        return _render_new({"swedish_holidays": True, "timezone": "Europe/Stockholm",
                            **{f"weekly_{day}": "08:00-17:00" for day in WEEKDAYS[:5]}}, {})
    shown = _posted()
    data, errors = _body(shown)
    if errors:
        return _render_new(shown, errors, 422)
    try:
        calendar = calendars.create_calendar(db.session, principal, data)
    except calendars.CalendarExists:
        db.session.rollback()
        return _render_new(shown, {"slug": "calendars.error.slug_taken"}, 422)
    except AppError as error:
        db.session.rollback()
        if error.status != 422:
            raise
        field = (error.errors or [{}])[0].get("field", "weekly_hours")
        key = "weekly_monday" if field == "weekly_hours" else field
        return _render_new(shown, {key: f"calendars.error.{field}"}, 422)
    return redirect(url_for("calendar_pages.calendar_page", slug=calendar.slug, created=1))


@bp.route("/admin/calendars/<string:slug>")
@login_required
def calendar_page(slug: str):
    _manager()
    calendar = calendars.get_calendar(db.session, slug)
    notice = ("created", 1, 1) if request.args.get("created") else None
    return _render(calendar, _form_of(calendar), {}, notice=notice)


@bp.post("/admin/calendars/<string:slug>")
@login_required
def save_calendar(slug: str):
    """Save the form through the service of PUT /api/v1/sla/calendars/<slug>."""
    principal = _manager()
    calendar = calendars.get_calendar(db.session, slug)
    shown = _posted()
    data, errors = _body(shown, calendar)
    if errors:
        return _render(calendar, shown, errors, status=422)
    before = calendar.current_version
    try:
        expected = int(shown["version"])
    except ValueError:
        expected = -1
    try:
        calendar = calendars.replace_calendar(db.session, principal, slug, data,
                                              expected_version=expected)
    except PreconditionFailed:
        db.session.rollback()
        calendar = calendars.get_calendar(db.session, slug)
        return _render(calendar, shown, {"form": "calendars.error.stale"}, status=409)
    except AppError as error:
        db.session.rollback()
        if error.status != 422:
            raise
        field = (error.errors or [{}])[0].get("field", "weekly_hours")
        key = "weekly_monday" if field == "weekly_hours" else field
        calendar = calendars.get_calendar(db.session, slug)
        return _render(calendar, shown, {key: f"calendars.error.{field}"}, status=422)
    notice = ("changed", before, calendar.current_version) \
        if calendar.current_version != before else ("unchanged", before, before)
    return _render(calendar, _form_of(calendar), {}, notice=notice)
