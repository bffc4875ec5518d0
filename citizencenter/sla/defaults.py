"""Sensible starting calendars and policies for a Swedish citizen service centre."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.cases.enums import Channel
from citizencenter.organisation.models import ServicePoint
from citizencenter.sla import policies
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.swedish_holidays import SHORTENED_EVES
from citizencenter.sla.enums import WEEKDAYS, Metric, TargetUnit
from citizencenter.sla.models import SlaPolicy

WEEKDAYS_ONLY = WEEKDAYS[:5]
WAITING = ["waiting_on_citizen"]


def _eves(*hours: str) -> dict[str, list[str]]:
    """Close at 14 on trettondags-, valborgsmässo- and allhelgonaafton (the half days the
    holidays package lists); a calendar's shortened_days change or drop this."""
    return {eve: list(hours) for eve in SHORTENED_EVES}


CALENDARS = [
    # The survey's office hours: weekdays 08–17, holidays and eves closed, three eves short.
    {"slug": "kontorstid", "name": "Kontorstid (vardagar 08–17)",
     "weekly_hours": {day: ["08:00-17:00"] for day in WEEKDAYS_ONLY},
     "shortened_days": _eves("08:00-14:00")},
    {"slug": "telefon", "name": "Kontaktcenter telefon", "channel": Channel.PHONE,
     "weekly_hours": {day: ["08:00-17:00"] for day in WEEKDAYS_ONLY},
     "shortened_days": _eves("08:00-14:00")},
    {"slug": "kristallen", "name": "Medborgarcenter Kristallen", "channel": Channel.WALK_IN,
     "service_point": "kristallen",
     "weekly_hours": {**{day: ["09:00-18:00"] for day in WEEKDAYS[:4]}, "friday": ["09:00-15:00"]},
     "shortened_days": _eves("09:00-14:00")},
    {"slug": "dalby", "name": "Servicepunkt Dalby", "channel": Channel.WALK_IN,
     "service_point": "dalby",
     "weekly_hours": {"tuesday": ["10:00-12:00", "13:00-16:00"],
                      "thursday": ["10:00-12:00", "13:00-18:00"]},
     "shortened_days": _eves("10:00-12:00", "13:00-14:00")},
    {"slug": "forvaltning", "name": "Förvaltningarnas kontorstid (lunch 12–13)",
     "weekly_hours": {day: ["08:00-12:00", "13:00-16:30"] for day in WEEKDAYS_ONLY},
     "shortened_days": _eves("08:00-12:00", "13:00-14:00")},
]

POLICIES = [
    ("epost-forsta-svar-24h", "E-post: första svar inom 24 timmar", Metric.FIRST_RESPONSE,
     Channel.EMAIL, 24, TargetUnit.HOURS, None, []),
    ("epost-forsta-svar-1-arbetsdag", "E-post: första svar inom en arbetsdag",
     Metric.FIRST_RESPONSE, Channel.EMAIL, 1, TargetUnit.WORKING_DAYS, "kontorstid", []),
    ("epost-nasta-svar", "E-post: nästa svar inom en arbetsdag", Metric.NEXT_RESPONSE,
     Channel.EMAIL, 1, TargetUnit.WORKING_DAYS, "kontorstid", []),
    ("webb-forsta-svar", "Webbformulär: första svar inom en arbetsdag", Metric.FIRST_RESPONSE,
     Channel.WEBFORM, 1, TargetUnit.WORKING_DAYS, "kontorstid", []),
    ("sociala-forsta-svar", "Sociala medier: första svar inom 4 arbetstimmar",
     Metric.FIRST_RESPONSE, Channel.SOCIAL, 4, TargetUnit.HOURS, "kontorstid", []),
    ("ring-upp", "Ring upp inom 2 arbetstimmar", Metric.CALLBACK, Channel.PHONE, 120,
     TargetUnit.MINUTES, "telefon", []),
    ("avslut", "Avslut inom 5 arbetsdagar", Metric.RESOLUTION, None, 5,
     TargetUnit.WORKING_DAYS, "kontorstid", WAITING),
    ("forvaltning-avslut", "Förvaltning: avslut inom 10 arbetsdagar",
     Metric.DEPARTMENT_RESOLUTION, None, 10, TargetUnit.WORKING_DAYS, "forvaltning", WAITING),
]


def seed(session: Session, actor: str = "system") -> bool:
    """Add the default calendars and policies once, in the caller's transaction."""
    if session.scalar(select(SlaPolicy.id).limit(1)) is not None:
        return False
    points = set(session.scalars(select(ServicePoint.slug)))
    for spec in CALENDARS:
        if spec.get("service_point") not in points:
            spec = {**spec, "service_point": None}  # a database without the demo's points
        calendars.add_calendar(session, actor, {
            "timezone": "Europe/Stockholm", "swedish_holidays": True, "closed_dates": [],
            **spec})
    for slug, name, metric, channel, value, unit, calendar, pauses in POLICIES:
        policies.add_policy(session, {
            "slug": slug, "name": name, "metric": metric, "channel": channel,
            "target_value": value, "target_unit": unit, "calendar": calendar,
            "pause_statuses": pauses, "warn_at_percent": 80})
    return True
