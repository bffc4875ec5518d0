"""Text messages for feedback invitations, behind an adapter: no gateway exists here.

Adapters never log the number or the text.
"""

from typing import Protocol


class SmsSender(Protocol):
    def send(self, to: str, text: str) -> bool:
        """Send `text` to the E.164 number `to`; False when nothing was sent."""


class NoSms:
    """No SMS gateway: nothing is sent, so citizens without e-mail get no invitation."""

    def send(self, to: str, text: str) -> bool:
        return False


class MemorySms:
    """Keeps messages in memory, for tests and demonstrations."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> bool:
        self.sent.append((to, text))
        return True


_memory = MemorySms()


def sender(name: str) -> SmsSender:
    """The adapter named by FEEDBACK_SMS."""
    if name == "memory":
        return _memory
    if name == "none":
        return NoSms()
    raise ValueError(f"FEEDBACK_SMS: unknown SMS adapter {name!r}")
