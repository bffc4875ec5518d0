from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.channels.social import replies
from citizencenter.channels.social.sender import MetaSender


@shared_task(name="social.send_reply", bind=True, acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=replies.RETRY_BACKOFF_MAX_S, max_retries=12)
def send_reply(self, payload: dict) -> None:
    message_id = int(payload["message_id"])
    try:
        replies.send_reply(db.session, message_id, MetaSender.from_config(current_app.config),
                           current_app.config)
    except Exception as exc:
        if self.request.retries < self.max_retries or isinstance(exc, replies.DeliveryInFlight):
            raise
        db.session.rollback()
        replies.give_up(db.session, message_id, f"{type(exc).__name__}: {exc}")
