"""The beat tasks run in a real Celery worker against the real database and Redis."""

import json
import time

import pytest
from sqlalchemy import text

from citizencenter import outbox, redis_pool
from citizencenter.dashboard import service
from citizencenter.reports.models import RollupState


def _wait_for(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the worker did not do its work in time")


@pytest.fixture
def clean_rollups(engine):
    yield
    with engine.begin() as conn:
        for table in ("report_facts", "rollup_cells", "rollup_days", "rollup_state"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.mark.worker
def test_refresh_and_snapshot_tasks_run_in_a_worker(app, committed, start_celery,
                                                    clean_rollups):
    store = redis_pool.client(app.config["REDIS_URL"])
    store.delete(service.SNAPSHOT_KEY)
    start_celery("worker")
    publisher = outbox.get_publisher()
    publisher.send("reports.refresh_rollups", [])
    publisher.send("dashboard.publish_snapshot", [])

    def refreshed():
        committed.expire_all()
        state = committed.get(RollupState, 1)
        refreshed_at = state.refreshed_at if state else None
        committed.rollback()  # on SQLite an open read would hold the write lock
        return refreshed_at

    assert _wait_for(refreshed)
    snapshot = json.loads(_wait_for(lambda: store.get(service.SNAPSHOT_KEY)))
    assert {"calls_waiting", "guides", "today", "email_backlog"} <= set(snapshot)
