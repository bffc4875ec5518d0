import uuid
from datetime import timedelta

from celery import shared_task
from flask import current_app

from citizencenter import db, keys
from citizencenter.feedback import service, sms


@shared_task(name="feedback.request_feedback", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=8)
def request_feedback(payload: dict) -> None:
    config = current_app.config
    links = service.LinkSettings(secret_key=keys.serializer_keys(config, "feedback-links",
                                                                 legacy=True),
                                 ttl=timedelta(days=config["FEEDBACK_LINK_TTL_DAYS"]),
                                 base_url=config["PUBLIC_BASE_URL"] or "http://127.0.0.1:5000")
    try:
        service.request_feedback(db.session, uuid.UUID(payload["case_id"]), links, config,
                                 sms.sender(config["FEEDBACK_SMS"]))
    finally:
        db.session.remove()
