"""The outbox and routing with real Celery processes and a real Redis."""

import time
import uuid

import pytest
from sqlalchemy import func, select

from citizencenter import db
from citizencenter.accounts import service as accounts
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case
from citizencenter.outbox import OutboxMessage
from tests.factories import bearer, case_payload

pytestmark = pytest.mark.worker


def _wait_until(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _routed(case_ids) -> int:
    try:
        return db.session.scalar(select(func.count()).select_from(Case).where(
            Case.id.in_(case_ids), Case.routed_at.is_not(None)))
    finally:
        db.session.remove()  # on SQLite an open transaction would hold the write lock


def test_route_case_runs_in_a_real_worker(app, committed, start_celery):
    _, token = accounts.create_token(committed, "worker test", role="guide")
    client = app.test_client()
    start_celery("worker")
    response = client.post("/api/v1/cases", json=case_payload(channel="phone"),
                           headers=bearer(token))
    assert response.status_code == 201
    case_id = uuid.UUID(response.get_json()["id"])
    # No beat here: the kick after commit alone gets the case routed.
    _wait_until(lambda: _routed([case_id]) == 1, 20, "the case to be routed")
    case = client.get(f"/api/v1/cases/{case_id}", headers=bearer(token)).get_json()
    assert case["queue"] == "kontaktcenter"  # the phone channel's default queue


def test_nothing_is_lost_while_redis_is_down(app, committed, redis_server, start_celery):
    _, token = accounts.create_token(committed, "outage test", role="guide")
    client = app.test_client()
    redis_server.stop()
    try:
        health = client.get("/api/v1/health").get_json()
        assert health == {"status": "degraded", "database": "ok", "redis": "unavailable"}
        started = time.monotonic()
        ids = []
        for n in range(100):
            response = client.post("/api/v1/cases", headers=bearer(token),
                                   json=case_payload(channel="email", subject=f"Utan Redis {n}"))
            assert response.status_code == 201
            ids.append(uuid.UUID(response.get_json()["id"]))
        # A dead broker must not make every request wait for it.
        assert time.monotonic() - started < 20
        db.session.remove()
        pending = committed.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.published_at.is_(None)))
        assert pending >= 100
    finally:
        redis_server.start()
    start_celery("worker")
    start_celery("beat")
    _wait_until(lambda: _routed(ids) == 100, 60, "all 100 cases to be routed")
    time.sleep(2)  # let any duplicate delivery land before counting
    db.session.remove()
    routed_per_case = committed.execute(
        select(AuditEntry.entity_id, func.count()).where(AuditEntry.action == "case.routed")
        .group_by(AuditEntry.entity_id)).all()
    counts = {entity_id: n for entity_id, n in routed_per_case}
    assert {str(i) for i in ids} <= set(counts)
    assert all(counts[str(i)] == 1 for i in ids)
    assert committed.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.published_at.is_(None))) == 0


def test_call_events_are_applied_by_real_workers(app, committed, start_celery):
    from citizencenter.channels.phone.models import Call, CallEvent
    from citizencenter.integrations import service as integrations
    from tests.channels.phone.helpers import CallSpec, at, post_queue_log

    _, token, secret = integrations.create_integration(committed, "pbx-worker",
                                                       ["calls:write"], app.config["SECRET_KEY"])
    client = app.test_client()
    start_celery("worker")
    start_celery("worker")
    specs = [CallSpec(f"w.{n}", at(9, n % 60, n // 60), ["answered", "abandoned"][n % 2],
                      wait=7 + n, talk=60, caller=f"07090{n:05d}") for n in range(60)]
    lines = [line for spec in specs for line in spec.lines()]
    lines = lines[1::2] + lines[::2]  # later events first for half of them
    for start in range(0, len(lines), 7):
        response = post_queue_log(client, (token, secret), lines[start:start + 7])
        assert response.status_code == 202

    def applied() -> bool:
        try:
            return committed.scalar(select(func.count()).select_from(CallEvent)
                                    .where(CallEvent.applied_at.is_(None))) == 0
        finally:
            db.session.remove()

    _wait_until(applied, 60, "all call events to be applied")

    def linked() -> bool:  # cases follow the call state in their own task
        try:
            return committed.scalar(select(func.count()).select_from(Call).where(
                Call.case_id.is_(None), Call.callback_case_id.is_(None))) == 0
        finally:
            db.session.remove()

    _wait_until(linked, 60, "every call to have its case")
    calls = {c.call_id: c for c in committed.scalars(select(Call))}
    assert len(calls) == 60
    for spec in specs:
        assert calls[spec.call_id].outcome.value == spec.outcome
        assert calls[spec.call_id].wait_s == spec.wait
    answered_cases = {c.case_id for c in calls.values() if c.outcome.value == "answered"}
    assert len(answered_cases) == 30 and None not in answered_cases
