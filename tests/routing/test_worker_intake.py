"""Cases opened while no worker runs get their SLA timers and their route once one does."""

import time
import uuid

import pytest
from sqlalchemy import func, select

from citizencenter import db
from citizencenter.accounts import service as accounts
from citizencenter.cases.models import Case
from citizencenter.sla.models import SlaTimer
from tests.factories import bearer, case_payload

pytestmark = pytest.mark.worker


def _counts(case_ids) -> tuple[int, int, int]:
    """(cases routed, cases with timers started, timers) of these cases."""
    try:
        routed, started = db.session.execute(select(
            func.count(Case.routed_at), func.count(Case.sla_started_at))
            .where(Case.id.in_(case_ids))).one()
        timers = db.session.scalar(select(func.count()).select_from(SlaTimer)
                                   .where(SlaTimer.case_id.in_(case_ids)))
        return routed, started, timers
    finally:
        db.session.remove()  # on SQLite an open transaction would hold the write lock


def test_cases_opened_while_the_worker_is_down_get_timers_and_a_route_when_it_is_back(
        app, routing_committed, start_celery):
    _, token = accounts.create_token(routing_committed, "intake test", role="guide")
    client = app.test_client()
    ids = []
    for n in range(30):
        response = client.post("/api/v1/cases", headers=bearer(token),
                               json=case_payload(subject=f"Medan arbetaren sover {n}"))
        assert response.status_code == 201
        ids.append(uuid.UUID(response.get_json()["id"]))
    read = client.get(f"/api/v1/cases/{ids[0]}/sla", headers=bearer(token))
    assert read.status_code == 200  # read before its timers started: none yet, no error
    assert _counts(ids) == (0, 0, 0)
    start_celery("worker")
    start_celery("beat")  # relays the outbox, as in production
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _counts(ids)[:2] != (30, 30):
        time.sleep(0.2)
    routed, started, timers = _counts(ids)
    assert (routed, started) == (30, 30)
    # The demo's e-mail policies: first reply within 24 h and within a working day, and
    # resolution; three timers a case, started once.
    assert timers == 90
    time.sleep(1.5)  # every further wake-up finds nothing to do
    assert _counts(ids) == (30, 30, 90)
