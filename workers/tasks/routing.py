import uuid

from celery import shared_task

from citizencenter import db
from citizencenter.routing import service


@shared_task(name="routing.route_case", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def route_case(payload: dict) -> None:
    try:
        service.route_case(db.session, uuid.UUID(payload["case_id"]))
    finally:
        db.session.remove()
