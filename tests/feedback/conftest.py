"""A real SMTP server that keeps what it accepted, and workers that deliver to it."""

import email
import email.policy

import pytest

from tests.conftest import running_smtp


@pytest.fixture
def smtp_inbox():
    with running_smtp(lambda envelope: email.message_from_bytes(
            envelope.content, policy=email.policy.default)) as inbox:
        yield inbox


@pytest.fixture
def worker_env(worker_env, smtp_inbox) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_inbox.port),
            "PUBLIC_BASE_URL": "https://medborgarcenter.example"}
