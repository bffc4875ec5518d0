from celery import shared_task
from flask import current_app

from citizencenter import db, redis_pool
from citizencenter.dashboard import service
from citizencenter.reports.service import report_settings


@shared_task(name="dashboard.publish_snapshot", acks_late=True, ignore_result=True)
def publish_snapshot() -> bool:
    config = current_app.config
    return service.publish_snapshot(db.session, redis_pool.client(config["REDIS_URL"]),
                                    report_settings(config))
