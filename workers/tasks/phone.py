from datetime import timedelta

from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.channels.phone import callers, service


@shared_task(name="phone.apply_call_events", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def apply_call_events(payload: dict) -> None:
    """Whatever events wait, not just the ones of the delivery that sent this."""
    service.apply_pending(db.session, short_abandon_s=current_app.config["PHONE_SHORT_ABANDON_S"])


@shared_task(name="phone.link_call_cases", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def link_call_cases(payload: dict) -> None:
    config = current_app.config
    callers.link_calls(db.session, payload["call_ids"],
                       short_abandon_s=config["PHONE_SHORT_ABANDON_S"],
                       callback_target=timedelta(minutes=config["CALLBACK_TARGET_MINUTES"]))
