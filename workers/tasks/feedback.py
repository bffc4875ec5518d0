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
    if not config["PUBLIC_BASE_URL"]:
        # No guessed address: a link to the wrong host or port is worse than none.
        raise RuntimeError("PUBLIC_BASE_URL is not set; feedback links need the address "
                           "citizens reach this service at")
    links = service.LinkSettings(secret_key=keys.serializer_keys(config, "feedback-links",
                                                                 legacy=True),
                                 ttl=timedelta(days=config["FEEDBACK_LINK_TTL_DAYS"]),
                                 base_url=config["PUBLIC_BASE_URL"])
    service.request_feedback(db.session, uuid.UUID(payload["case_id"]), links, config,
                             sms.sender(config["FEEDBACK_SMS"]))
