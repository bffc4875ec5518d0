"""SLA fixtures: a real SMTP server for supervisor mail, and workers that scan often."""

import socket
import threading

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """Keeps every message the SMTP server accepted."""

    def __init__(self):
        self.messages: list[tuple[list[str], str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos),
                                  envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def worker_env(worker_env, smtp_server) -> dict:
    return {**worker_env, "SLA_SCAN_INTERVAL_S": "1", "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_server.port)}
