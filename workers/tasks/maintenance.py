from datetime import timedelta

from celery import shared_task
from flask import current_app

from citizencenter import db, idempotency, outbox, reconciliation
from citizencenter.db import utcnow
from citizencenter.integrations import service as integrations

PUBLISHED_OUTBOX_KEPT = timedelta(days=7)


@shared_task(name="maintenance.purge_expired", acks_late=True)
def purge_expired() -> None:
    idempotency.purge_expired(db.session, current_app.config["IDEMPOTENCY_TTL_S"])
    outbox.purge_published(db.session, utcnow() - PUBLISHED_OUTBOX_KEPT)
    integrations.purge_deliveries(db.session)


@shared_task(name="maintenance.reconcile", acks_late=True, ignore_result=True)
def reconcile() -> dict:
    config = current_app.config
    return reconciliation.reconcile(
        db.session, config, grace=timedelta(seconds=config["RECONCILE_GRACE_S"]),
        look_back=timedelta(hours=config["RECONCILE_LOOKBACK_H"]))
