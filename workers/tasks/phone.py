from datetime import timedelta

from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.channels.phone import service


@shared_task(name="phone.apply_call_events", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def apply_call_events(payload: dict) -> None:
    config = current_app.config
    try:
        service.apply_events(db.session, payload["event_ids"],
                             short_abandon_s=config["PHONE_SHORT_ABANDON_S"],
                             callback_target=timedelta(
                                 minutes=config["CALLBACK_TARGET_MINUTES"]))
    finally:
        db.session.remove()
