"""SLA fixtures: a real SMTP server for supervisor mail, workers that scan often, and the
worker's start of a new case's timers run at once."""

import pytest

from citizencenter.cases import events
from citizencenter.sla import service as sla_service
from tests.conftest import recipients_and_text, running_smtp


def _start_now(session, case, **_data) -> None:
    sla_service.start_timers(session, [case])


@pytest.fixture(autouse=True)
def timers_start_at_intake(request):
    """These tests are about the clocks, not about who starts them: the step the worker
    takes for `case.created` (`sla.service.start_timers`) runs in the intake's own
    transaction here, as Celery's eager mode would run the task. Tests that ask for
    `worker_starts_timers` keep the real order: intake first, the worker later."""
    if "worker_starts_timers" in request.fixturenames:
        yield
        return
    events.subscribe("created", _start_now)
    yield
    events._subscribers["created"].remove(_start_now)


@pytest.fixture
def worker_starts_timers():
    """Leave a new case's timers to the worker, as in production."""


@pytest.fixture
def smtp_server():
    with running_smtp(recipients_and_text) as inbox:
        yield inbox


@pytest.fixture
def worker_env(worker_env, smtp_server) -> dict:
    return {**worker_env, "SLA_SCAN_INTERVAL_S": "1", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_server.port)}
