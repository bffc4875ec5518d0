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
