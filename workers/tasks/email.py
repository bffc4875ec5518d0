"""E-mail tasks: poll the mailboxes, send acknowledgements and guides' replies.

Sending is idempotent in channels/email/outbound.py: a redelivered task finds the
recorded mail and its sent_at, and never sends it twice. A mail still not sent after the
last retry is marked failed on its case, never dropped silently.
"""

import uuid

from celery import shared_task
from flask import current_app

from citizencenter import db, mailer
from citizencenter.channels.email import service
from citizencenter.channels.email.models import EmailKind


@shared_task(name="email.poll_mailboxes", acks_late=True, ignore_result=True)
def poll_mailboxes() -> None:
    service.poll_all(db.session, current_app.config)


def _reason(exc: Exception) -> str:
    # MailNotSent says only what went wrong; other errors may quote an address: type only.
    return f"MailNotSent: {exc}" if isinstance(exc, mailer.MailNotSent) else type(exc).__name__


@shared_task(name="email.send_acknowledgement", bind=True, acks_late=True,
             autoretry_for=(Exception,), retry_backoff=True,
             retry_backoff_max=service.RETRY_BACKOFF_MAX_S, max_retries=12)
def send_acknowledgement(self, payload: dict) -> str:
    case_id = uuid.UUID(payload["case_id"])
    try:
        return service.send_acknowledgement(db.session, case_id, current_app.config)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise  # tried again later
        db.session.rollback()
        return service.give_up(db.session, EmailKind.ACKNOWLEDGEMENT, case_id, _reason(exc),
                                current_app.config)


@shared_task(name="email.send_reply", bind=True, acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=service.RETRY_BACKOFF_MAX_S,
             max_retries=12)
def send_reply(self, payload: dict) -> str:
    message_id = int(payload["message_id"])
    try:
        return service.send_reply(db.session, message_id, current_app.config)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise
        db.session.rollback()
        return service.give_up(db.session, EmailKind.REPLY, message_id, _reason(exc),
                                current_app.config)
