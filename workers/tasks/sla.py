from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.sla import notifications, service


@shared_task(name="sla.scan_deadlines", acks_late=True, ignore_result=True)
def scan_deadlines() -> None:
    service.scan_deadlines(db.session)


@shared_task(name="sla.send_notification", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def send_notification(payload: dict) -> None:
    notifications.send_notification(db.session, int(payload["notification_id"]),
                                    current_app.config)
