"""Telling supervisors by e-mail that a case nears or passed its target."""

from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import mailer
from citizencenter.accounts.models import Role, User
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.sla.enums import Metric, NotificationKind
from citizencenter.sla.models import SlaNotification, SlaTimer

METRIC_NAMES = {
    Metric.FIRST_RESPONSE: "första svar",
    Metric.NEXT_RESPONSE: "nästa svar",
    Metric.RESOLUTION: "avslut",
    Metric.CALLBACK: "återuppringning",
    Metric.DEPARTMENT_RESOLUTION: "avslut på förvaltningen",
}


def _message(case: Case, timer: SlaTimer, kind: NotificationKind, recipients: list[str],
             config) -> EmailMessage:
    # Only the reference and the clock: the subject line and the citizen stay out of mail.
    due = timer.due_at.astimezone(ZoneInfo(config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
    metric = METRIC_NAMES[timer.metric]
    if kind == NotificationKind.WARNING:
        subject = f"SLA-varning {case.reference}: {metric} förfaller {due}"
        text = (f"Ärende {case.reference} har använt {timer.warn_at_percent} % av tiden för "
                f"{metric}. Måltiden går ut {due}.")
    else:
        subject = f"SLA överskridet {case.reference}: {metric} skulle vara klart {due}"
        text = (f"Ärende {case.reference} nådde inte målet för {metric} ({due}). "
                f"Prioriteten är nu {case.priority.value}.")
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config["MAIL_DOMAIN"])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text + "\n")
    return message


def send_notification(session: Session, notification_id: int, config) -> bool:
    """E-mail active supervisors about a warning or breach; a second run sends nothing."""
    notification = session.get(SlaNotification, notification_id)
    if notification is None or notification.sent_at is not None:
        session.rollback()
        return False
    timer = session.get(SlaTimer, notification.timer_id)
    case = session.get(Case, notification.case_id)
    supervisors = select(User.email).where(User.role == Role.SUPERVISOR, User.active.is_(True))
    if case.contact is not None and case.contact.protection is not None:
        # A protected identity's case: only those who may see it hear of it at all.
        supervisors = supervisors.where(User.protected_access.is_(True))
    recipients = list(session.scalars(supervisors.order_by(User.id)))
    if recipients:
        mailer.send(_message(case, timer, notification.kind, recipients, config), config)
    notification.sent_at, notification.recipients = utcnow(), len(recipients)
    session.commit()
    return True
