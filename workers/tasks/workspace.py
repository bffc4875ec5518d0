from celery import shared_task
from flask import current_app

from citizencenter import db, redis_pool
from citizencenter.workspace import live


def _store():
    return redis_pool.client(current_app.config["REDIS_URL"])


@shared_task(name="workspace.screen_pop", acks_late=True, ignore_result=True)
def screen_pop(payload: dict) -> None:
    """A pop that comes late is useless: no retries (the call is answered already)."""
    live.publish_screen_pops(db.session, _store(), [int(i) for i in payload["call_ids"]])


@shared_task(name="workspace.publish_waiting", acks_late=True, ignore_result=True)
def publish_waiting() -> bool:
    return live.publish_waiting(db.session, _store())
