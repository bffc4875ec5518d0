from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.reports import service


@shared_task(name="reports.refresh_rollups", acks_late=True, ignore_result=True)
def refresh_rollups() -> dict:
    return service.refresh_rollups(db.session, current_app.config).summary()
