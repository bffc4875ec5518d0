"""Twilio Voice callbacks: the signature check Twilio specifies and the mapping to call events.

X-Twilio-Signature = base64(HMAC-SHA1(auth token, full URL + each POST parameter's
name and value, sorted by name)).
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from citizencenter.channels.phone.models import CallEventType as T
from citizencenter.channels.phone.schemas import caller_number
from citizencenter.integrations.signatures import SignatureInvalid, SignatureMissing

SOURCE = "twilio"
_STATUS = {"queued": T.QUEUED, "initiated": T.QUEUED, "ringing": T.QUEUED,
           "in-progress": None, "completed": T.ENDED, "busy": T.ABANDONED,
           "no-answer": T.ABANDONED, "failed": T.ABANDONED, "canceled": T.ABANDONED}
_QUEUE_RESULT = {"bridged": (T.ANSWERED, None), "hangup": (T.ABANDONED, None),
                 "leave": (T.EXITED, "key"), "queue-full": (T.EXITED, "full"),
                 "error": (T.EXITED, "error"), "system-shutdown": (T.EXITED, "error")}


def expected_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(params, key=lambda kv: kv[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify(auth_token: str, url: str, params: list[tuple[str, str]],
           signature: str | None) -> None:
    if not signature:
        raise SignatureMissing("X-Twilio-Signature is required.")
    if not hmac.compare_digest(expected_signature(auth_token, url, params), signature):
        raise SignatureInvalid("X-Twilio-Signature does not match.")


def to_event(form: dict[str, str], queue: str | None) -> dict | None:
    """A status or Enqueue-action callback as a call event; None when it carries nothing."""
    call_sid = form.get("CallSid")
    if not call_sid:
        raise ValueError("CallSid is missing")
    metrics = {}
    if "QueueResult" in form:
        kind, reason = _QUEUE_RESULT.get(form["QueueResult"], (T.IGNORED, None))
        if "QueueTime" in form:
            metrics["wait_s"] = float(form["QueueTime"])
        if reason:
            metrics["reason"] = reason
        marker = "queue-" + form["QueueResult"]
    else:
        status = form.get("CallStatus", "")
        if status not in _STATUS:
            raise ValueError("CallStatus is not a Twilio call status")
        kind, marker = _STATUS[status], status
        if kind is None:
            return None
    occurred_at = datetime.now(UTC)
    if form.get("Timestamp"):
        try:
            occurred_at = parsedate_to_datetime(form["Timestamp"]).astimezone(UTC)
        except (TypeError, ValueError):
            raise ValueError("Timestamp is not an RFC 2822 date") from None
    sequence = int(form.get("SequenceNumber") or 0)
    return {
        "event_id": f"{call_sid}:{sequence}:{marker}",
        "source": SOURCE,
        "type": kind,
        "occurred_at": occurred_at,
        "sequence": sequence,
        "call_id": call_sid,
        "queue": queue,
        "agent": None,
        "caller": _caller(form.get("From")),
        "metrics": metrics,
        "raw": {k: v for k, v in form.items() if k not in ("From", "To", "Caller", "Called")},
    }


def _caller(raw: str | None) -> str | None:
    """A malformed caller id is treated as unknown, not as a reason to drop the event."""
    try:
        return caller_number(raw)
    except ValueError:
        return None
