from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.privacy.retention import service as retention


@shared_task(name="retention.run", acks_late=True, ignore_result=True)
def run() -> dict:
    """Erase the cases due under the retention rules, batch by batch (nightly)."""
    config = current_app.config
    return retention.run(db.session, batch_size=config["RETENTION_BATCH_SIZE"],
                         max_batches=config["RETENTION_MAX_BATCHES"])
