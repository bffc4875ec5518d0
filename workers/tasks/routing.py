import uuid
from datetime import timedelta

from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.routing import (
    assignment,
    escalation,
    notifications,
    presence,
    service,
    webhooks,
)


class StillContended(Exception):
    """Another worker held the guides this case needed; try again in a moment."""


def _sticky() -> timedelta:
    return timedelta(hours=current_app.config["ROUTING_STICKY_HOURS"])


class StillUnrouted(Exception):
    """A case of the wake-up was held by another transaction; try again in a moment."""


@shared_task(name="routing.route_case", bind=True, acks_late=True,
             autoretry_for=(Exception,), retry_backoff=True, max_retries=10)
def route_case(self, payload: dict) -> None:
    # The message only wakes a worker: it starts the timers of, and routes, every new
    # case that waits, in batches. The relay sends one per batch of new cases, their ids
    # in "case_ids" (a re-drive names one, "case_id").
    ids = payload.get("case_ids") or ([payload["case_id"]] if payload.get("case_id") else [])
    if not service.route_new(db.session, [uuid.UUID(i) for i in ids], _sticky(),
                             current_app.config["ROUTING_BATCH"]):
        raise self.retry(exc=StillUnrouted(), countdown=0.1 * (self.request.retries + 1))


@shared_task(name="routing.assign_case", bind=True, acks_late=True, max_retries=20)
def assign_case(self, payload: dict) -> None:
    outcome = assignment.assign_waiting(db.session, uuid.UUID(payload["case_id"]), _sticky())
    if outcome.contended:  # short and bounded; the beat scan catches anything left
        raise self.retry(exc=StillContended(), countdown=0.05 * (self.request.retries + 1))


@shared_task(name="routing.pull_for_guide", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def pull_for_guide(payload: dict) -> None:
    assignment.pull_for_guide(db.session, int(payload["user_id"]))


@shared_task(name="routing.apply_call_presence", acks_late=True, autoretry_for=(Exception,),
             retry_backoff=True, max_retries=10)
def apply_call_presence(payload: dict) -> None:
    presence.apply_call_presence(db.session, [int(i) for i in payload["call_ids"]])


@shared_task(name="routing.notify_department", acks_late=True,
             autoretry_for=(notifications.NotificationFailed,), retry_backoff=True,
             retry_backoff_max=600, max_retries=12)
def notify_department(payload: dict) -> None:
    notifications.notify_department(db.session, int(payload["forwarding_id"]),
                                    current_app.config)


@shared_task(name="routing.send_webhook_test", acks_late=True,
             autoretry_for=(notifications.NotificationFailed,), retry_backoff=True,
             retry_backoff_max=60, max_retries=3)
def send_webhook_test(payload: dict) -> None:
    webhooks.deliver_test(db.session, int(payload["test_id"]), current_app.config)


@shared_task(name="routing.scan", acks_late=True, ignore_result=True)
def scan() -> None:
    escalation.scan(db.session)
