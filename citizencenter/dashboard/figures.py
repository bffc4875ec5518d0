"""Live figures computed from the database: the truth the Redis snapshot is reconciled to."""

from datetime import datetime, time, timedelta

from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.orm import Session

from citizencenter.cases.enums import CaseKind, CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.channels.email.models import EmailMessage
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.channels.social.models import DeliveryStatus, SocialDelivery
from citizencenter.config import local_zone
from citizencenter.db import UTCDateTime
from citizencenter.reports import service as reports

PRESENCES = ("available", "busy", "away", "offline")
# A call still "waiting" after this long lost its final event; it is not waiting now.
STALE_WAIT = timedelta(hours=4)
TODAY_FIGURES = {
    "phone": ("service_level_120", "service_level_60", "calls_offered", "abandon_rate",
              "asa_seconds", "direct_answer_rate"),
    "email": ("answered_within_24h", "cases_received", "mean_response_office_hours"),
    "webform": ("answered_within_24h", "cases_received"),
    "social": ("answered_within_24h", "cases_received"),
    "walk_in": ("cases_received", "first_contact_resolution"),
}
_ledger = table("sla_ledger", column("event"), column("occurred_at", UTCDateTime()))


def _has_table(session: Session, name: str) -> bool:
    return inspect(session.connection()).has_table(name)


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return round(max(0.0, (now - moment).total_seconds()), 1) if moment else None


def _waiting_calls(session: Session, now: datetime) -> dict:
    today = now.astimezone(local_zone()).date()
    count, oldest = session.execute(
        select(func.count(), func.min(Call.entered_at))
        .where(Call.local_date >= today - timedelta(days=1),
               Call.outcome == CallOutcome.WAITING, Call.entered_at > now - STALE_WAIT)).one()
    return {"calls_waiting": count, "longest_wait_since": oldest.isoformat() if oldest else None,
            "longest_wait_seconds": _seconds_since(oldest, now)}


def _guides(session: Session) -> dict:
    counts = dict.fromkeys(PRESENCES, 0)
    if not _has_table(session, "guide_profiles"):
        return {"guides": counts, "guides_source": "unavailable"}
    from citizencenter.routing.models import GuideProfile

    for presence, n in session.execute(select(GuideProfile.presence, func.count())
                                       .group_by(GuideProfile.presence)):
        counts[str(presence)] = n
    return {"guides": counts, "guides_source": "routing"}


def _email_backlog(session: Session, now: datetime) -> dict:
    count, oldest = session.execute(
        select(func.count(), func.min(Case.received_at))
        .where(Case.status.in_([CaseStatus.NEW, CaseStatus.OPEN]), Case.channel == Channel.EMAIL,
               Case.kind == CaseKind.INQUIRY, Case.first_response_at.is_(None))).one()
    return {"count": count, "oldest_received_at": oldest.isoformat() if oldest else None,
            "oldest_wait_seconds": _seconds_since(oldest, now)}


def _failed_outgoing(session: Session, midnight: datetime) -> int:
    """Replies and receipts given up today after their last retry: a guide must act."""
    mail = session.scalar(select(func.count()).select_from(EmailMessage)
                          .where(EmailMessage.failed_at >= midnight))
    social = session.scalar(select(func.count()).select_from(SocialDelivery).where(
        SocialDelivery.status == DeliveryStatus.FAILED, SocialDelivery.created_at >= midnight))
    return mail + social


def _breaches_today(session: Session, midnight: datetime) -> int | None:
    if not _has_table(session, "sla_ledger"):
        return None
    return session.scalar(select(func.count()).select_from(_ledger).where(
        _ledger.c.event == "breached", _ledger.c.occurred_at >= midnight))


def _today(session: Session, midnight: datetime, settings: reports.ReportSettings) -> dict:
    out = {}
    for channel, totals in reports.channel_totals(
            session, midnight, midnight + timedelta(days=1)).items():
        figures = reports.channel_figures(channel, totals, settings)
        out[channel] = {name: figures[name]["value"] for name in TODAY_FIGURES[channel]
                        if name in figures}
    return out


def live_figures(session: Session, now: datetime, settings: reports.ReportSettings) -> dict:
    """The wallboard's figures as of `now`; today's levels come from the rollups."""
    zone = local_zone()
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone)
    breaches = _breaches_today(session, midnight)
    return {
        "at": now.isoformat(),
        **_waiting_calls(session, now),
        **_guides(session),
        "today": _today(session, midnight, settings),
        "email_backlog": _email_backlog(session, now),
        "failed_outgoing_today": _failed_outgoing(session, midnight),
        "breaches_today": breaches,
        "breaches_source": "sla_ledger" if breaches is not None else "unavailable",
    }
