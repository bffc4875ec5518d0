"""Knowledge's work for the workers: telling an article's owner of a proposed change and of
articles past their review date."""

from celery import shared_task
from flask import current_app

from citizencenter import db, mailer
from citizencenter.knowledge import notifications


@shared_task(name="knowledge.notify_owner", acks_late=True,
             autoretry_for=(mailer.MailNotSent,), retry_backoff=True, retry_backoff_max=600,
             max_retries=12)
def notify_owner(payload: dict) -> None:
    notifications.notify_owner(db.session, int(payload["proposal_id"]), current_app.config)


@shared_task(name="knowledge.remind_reviews", acks_late=True,
             autoretry_for=(mailer.MailNotSent,), retry_backoff=True, retry_backoff_max=3600,
             max_retries=8)
def remind_reviews() -> int:
    return notifications.remind_reviews(db.session, current_app.config)
