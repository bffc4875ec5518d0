"""SLA fixtures: a real SMTP server for supervisor mail, and workers that scan often."""

import pytest

from tests.conftest import recipients_and_text, running_smtp


@pytest.fixture
def smtp_server():
    with running_smtp(recipients_and_text) as inbox:
        yield inbox


@pytest.fixture
def worker_env(worker_env, smtp_server) -> dict:
    return {**worker_env, "SLA_SCAN_INTERVAL_S": "1", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_server.port)}
