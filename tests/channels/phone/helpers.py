"""A readable way to write queue_log days for the tests, and signed deliveries."""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from citizencenter.channels.phone import callers, service
from citizencenter.db import utcnow
from citizencenter.integrations.signatures import sign
from citizencenter.outbox import OutboxMessage
from tests.factories import bearer

CALLS_URL = "/api/v1/integrations/calls"


@dataclass
class CallSpec:
    """One call as it happened; `lines()` writes what Asterisk would log for it."""

    call_id: str
    entered: datetime
    outcome: str  # answered, abandoned, timeout, empty, key
    wait: int
    queue: str = "kontaktcenter"
    caller: str = "0701234567"
    agent: str = "SIP/8007"
    talk: int = 0
    transfer: bool = False
    ring_no_answer: int = 0
    extra: list = field(default_factory=list)

    def lines(self) -> list[str]:
        t0 = int(self.entered.timestamp())
        q, cid = self.queue, self.call_id
        out = [f"{t0}|{cid}|{q}|NONE|ENTERQUEUE||{self.caller}|1"]
        for n in range(self.ring_no_answer):
            out.append(f"{t0 + min(self.wait, 15 * (n + 1))}|{cid}|{q}|SIP/8010|RINGNOANSWER|15000")
        end = t0 + self.wait
        if self.outcome == "answered":
            out.append(f"{end}|{cid}|{q}|{self.agent}|CONNECT|{self.wait}|{cid}.2|4")
            if self.transfer:
                out.append(f"{end + self.talk}|{cid}|{q}|{self.agent}|BLINDTRANSFER|2040|"
                           f"from-internal|{self.wait}|{self.talk}|1")
            else:
                out.append(f"{end + self.talk}|{cid}|{q}|{self.agent}|COMPLETEAGENT|"
                           f"{self.wait}|{self.talk}|1")
        elif self.outcome == "abandoned":
            out.append(f"{end}|{cid}|{q}|NONE|ABANDON|1|1|{self.wait}")
        elif self.outcome == "timeout":
            out.append(f"{end}|{cid}|{q}|NONE|EXITWITHTIMEOUT|1|1|{self.wait}")
        elif self.outcome == "empty":
            out.append(f"{end}|{cid}|{q}|NONE|EXITEMPTY|1|1|{self.wait}")
        elif self.outcome == "key":
            out.append(f"{end}|{cid}|{q}|NONE|EXITWITHKEY|5|1|1|{self.wait}")
        return out + self.extra


def signed_headers(token: str, secret: str, body: bytes, content_type: str,
                   webhook_id: str | None = None, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    webhook_id = webhook_id or f"msg_{time.monotonic_ns()}"
    return {**bearer(token), "Content-Type": content_type, "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, body)}


def post_events(client, integration, events, **kwargs):
    token, secret = integration
    body = json.dumps(events, default=str).encode()
    return client.post(f"{CALLS_URL}/events", data=body,
                       headers=signed_headers(token, secret, body, "application/json",
                                              **kwargs))


def post_queue_log(client, integration, lines, **kwargs):
    token, secret = integration
    body = ("\n".join(lines) + "\n").encode()
    return client.post(f"{CALLS_URL}/asterisk", data=body,
                       headers=signed_headers(token, secret, body, "text/plain", **kwargs))


def at(hour: int, minute: int = 0, second: int = 0, day: int = 18) -> datetime:
    """A moment on Wednesday 18 November 2026, Stockholm time (UTC+1)."""
    return datetime(2026, 11, day, hour - 1, minute, second, tzinfo=UTC)


def apply_and_link(session, event_ids) -> None:
    """What the workers do with stored events: call state first, then the callers' cases."""
    service.apply_events(session, event_ids)
    for message in session.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == "calls.need_cases", OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id)).all():
        message.published_at = utcnow()
        callers.link_calls(session, message.payload["call_ids"])
