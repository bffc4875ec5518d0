from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.channels.social import replies
from citizencenter.channels.social.sender import MetaSender


@shared_task(name="social.send_reply", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, retry_backoff_max=600, max_retries=12)
def send_reply(payload: dict) -> None:
    try:
        replies.send_reply(db.session, int(payload["message_id"]),
                           MetaSender.from_config(current_app.config))
    finally:
        db.session.remove()
