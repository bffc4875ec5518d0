from celery import shared_task
from flask import current_app

from citizencenter import db, outbox


@shared_task(name="outbox.relay", acks_late=True, ignore_result=True)
def relay() -> int:
    return outbox.relay(db.session, outbox.get_publisher(),
                        batch=current_app.config["OUTBOX_BATCH"])
