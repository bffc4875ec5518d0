"""Accounts' work for the workers: mailing password reset links, recording token uses."""

from celery import shared_task
from flask import current_app

from citizencenter import db, mailer, redis_pool
from citizencenter.accounts import resets, token_uses


@shared_task(name="accounts.send_password_reset", acks_late=True,
             autoretry_for=(mailer.MailNotSent,), retry_backoff=True, retry_backoff_max=300,
             max_retries=8)
def send_password_reset(payload: dict) -> None:
    resets.send_reset_mail(db.session, int(payload["reset_id"]), current_app.config)


@shared_task(name="accounts.record_token_uses", ignore_result=True)
def record_token_uses() -> int:
    return token_uses.record(db.session, redis_pool.client(current_app.config["REDIS_URL"]))
