"""Standard Webhooks signatures: v1,<base64 HMAC-SHA256 of "id.timestamp.body">."""

import base64
import hashlib
import hmac
import secrets
import time

from citizencenter.errors import AppError

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 5 * 60


class SignatureMissing(AppError):
    """A webhook came without the headers that sign it: who sent it is unknown."""

    status, title, slug = 401, "Signature missing", "signature-missing"


class SignatureInvalid(AppError):
    """A webhook's signature does not match, or is out of time: it is refused."""

    status, title, slug = 403, "Signature invalid", "signature-invalid"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header value a sender puts on a request."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secrets_: list[str], webhook_id: str | None, timestamp: str | None,
           signature_header: str | None, body: bytes, now: float | None = None) -> None:
    """Accept the request if any v1 signature matches any current secret, in time."""
    if not (webhook_id and timestamp and signature_header):
        raise SignatureMissing("webhook-id, webhook-timestamp and webhook-signature are "
                               "required.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureInvalid("webhook-timestamp is not an integer.") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > TOLERANCE_S:
        raise SignatureInvalid("webhook-timestamp is outside the 5-minute tolerance.")
    offered = [part.split(",", 1)[1] for part in signature_header.split()
               if part.startswith("v1,")]
    for secret in secrets_:
        expected = sign(secret, webhook_id, sent_at, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureInvalid("No webhook signature matches.")
