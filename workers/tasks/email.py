"""E-mail tasks: poll the mailboxes, send acknowledgements and guides' replies.

Sending is idempotent in channels/email/outbound.py: a redelivered task finds the
recorded mail and its sent_at, and never sends it twice.
"""

import uuid

from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.channels.email import outbound, polling


@shared_task(name="email.poll_mailboxes", acks_late=True, ignore_result=True)
def poll_mailboxes() -> None:
    try:
        polling.poll_all(db.session, current_app.config)
    finally:
        db.session.remove()


@shared_task(name="email.send_acknowledgement", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=900, max_retries=12)
def send_acknowledgement(payload: dict) -> str:
    try:
        return outbound.send_acknowledgement(db.session, uuid.UUID(payload["case_id"]),
                                             current_app.config)
    finally:
        db.session.remove()


@shared_task(name="email.send_reply", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=900, max_retries=12)
def send_reply(payload: dict) -> str:
    try:
        return outbound.send_reply(db.session, int(payload["message_id"]), current_app.config)
    finally:
        db.session.remove()
