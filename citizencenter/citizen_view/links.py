"""Signed links to the citizen's view of a case: /mitt-arende/<token>.

The token names the case (its id) and when it was issued, signed with a key of its own
purpose; it holds nothing of the citizen. It expires CITIZEN_LINK_TTL_DAYS after it was
issued, and staff can revoke a case's links (service.revoke): every token issued up to
then is refused.
"""

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from citizencenter import keys
from citizencenter.db import utcnow
from citizencenter.errors import AppError

SALT = "citizen-view-link"
PURPOSE = "citizen-view-links"
PATH = "/mitt-arende/"


class LinkInvalid(AppError):
    """Forged, damaged or unknown: nothing is revealed, not even that a case exists."""

    status, title, slug = 404, "Invalid link", "citizen-link-invalid"


class LinkGone(AppError):
    status, title, slug = 410, "Link no longer valid", "citizen-link-gone"


def _serializer(config: Mapping) -> URLSafeSerializer:
    return URLSafeSerializer(keys.serializer_keys(config, PURPOSE), salt=SALT)


def make_token(config: Mapping, case_id: uuid.UUID, now: datetime | None = None) -> str:
    """A signed token for the case's page, issued `now`."""
    issued = int((now or utcnow()).timestamp())
    return _serializer(config).dumps({"c": case_id.hex, "i": issued})


def link_for_case(config: Mapping, case_id: uuid.UUID, now: datetime | None = None
                  ) -> str | None:
    """The absolute link to the citizen's page of a case, for an acknowledgement; None
    when PUBLIC_BASE_URL is not configured (no guessed address in a citizen's mail)."""
    base = str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return None
    return f"{base}{PATH}{make_token(config, case_id, now)}"


def read_token(config: Mapping, token: str, now: datetime | None = None
               ) -> tuple[uuid.UUID, datetime]:
    """The case a token names and when it was issued; LinkInvalid when it is not ours,
    LinkGone when it has expired."""
    if not token or len(token) > 200:
        raise LinkInvalid("Länken är inte giltig.")
    try:
        payload = _serializer(config).loads(token)
        case_id = uuid.UUID(hex=payload["c"])
        issued = datetime.fromtimestamp(int(payload["i"]), UTC)
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("Länken är inte giltig.") from None
    ttl = timedelta(days=config["CITIZEN_LINK_TTL_DAYS"])
    if (now or utcnow()) >= issued + ttl:
        raise LinkGone("Länken har gått ut.")
    return case_id, issued
