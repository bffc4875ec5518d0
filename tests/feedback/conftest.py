"""A real SMTP server that keeps what it accepted, and workers that deliver to it."""

import email
import email.policy
import threading

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import _free_port


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content,
                                                          policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def worker_env(worker_env, smtp_inbox) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_inbox.port),
            "PUBLIC_BASE_URL": "https://medborgarcenter.example"}
