"""Signed outbound Message-IDs, so a citizen's reply finds its case without the subject tag.

Our id carries the case reference and an HMAC over it; replies quote it in In-Reply-To
or References, and only ids we signed are trusted, so a forged id names no case.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from citizencenter.channels.email.parsing import (
    ParsedEmail,
    case_reference_from_subject,
    normalise_message_id,
)

SIGNED = "message_id"
STORED = "stored_message_id"
SUBJECT = "subject"

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")
_NONCE = re.compile(r"[0-9a-f]{16}")
_MAC_HEX_CHARS = 32  # 128 bits of HMAC-SHA256
_MAC = re.compile(rf"[0-9a-fA-F]{{{_MAC_HEX_CHARS}}}")
# Keeps these MACs apart from anything else signed with the same secret.
_PURPOSE = b"citizencenter/message-id\x00"


def _mac(secret: bytes, case_reference: str, nonce: str) -> str:
    message = _PURPOSE + f"{case_reference}.{nonce}".encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:_MAC_HEX_CHARS]


def make_message_id(case_reference: str, secret: bytes, domain: str) -> str:
    """Make a new <reference.nonce.mac@domain> Message-ID for mail sent on a case."""
    if not _REFERENCE.fullmatch(case_reference):
        raise ValueError("case reference must be letters, digits and hyphens")
    if not secret:
        raise ValueError("secret must not be empty")
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError("domain must be a host name")
    nonce = secrets.token_hex(8)
    return f"<{case_reference}.{nonce}.{_mac(secret, case_reference, nonce)}@{domain}>"


def case_reference_from_message_id(message_id: str | None,
                                   secret: bytes | Sequence[bytes]) -> str | None:
    """The case reference in one of our signed ids, or None if unsigned or forged.

    Several secrets may be given while one is being rotated out.
    """
    normalised = normalise_message_id(message_id)
    if normalised is None or "@" not in normalised:
        return None
    parts = normalised.rsplit("@", 1)[0].split(".")
    if len(parts) != 3:
        return None
    case_reference, nonce, mac = parts
    if not (_REFERENCE.fullmatch(case_reference) and _NONCE.fullmatch(nonce)
            and _MAC.fullmatch(mac)):
        return None
    keys = [secret] if isinstance(secret, bytes) else list(secret)
    for key in keys:
        if key and hmac.compare_digest(_mac(key, case_reference, nonce), mac.lower()):
            return case_reference
    return None


@dataclass(frozen=True)
class ThreadingHints:
    """What an inbound message says about its case, in the order to trust it.

    `candidate_message_ids` are the ids it answers (newest first) for the caller to
    look up among stored messages, the one step that needs the database.
    """

    signed_reference: str | None
    candidate_message_ids: list[str] = field(default_factory=list)
    subject_reference: str | None = None

    def resolve(self, lookup: Callable[[list[str]], str | None] | None = None
                ) -> tuple[str, str] | None:
        """(source, case reference) from signed id, then lookup(candidates), then subject."""
        if self.signed_reference:
            return SIGNED, self.signed_reference
        if lookup is not None and self.candidate_message_ids:
            stored = lookup(self.candidate_message_ids)
            if stored:
                return STORED, stored
        if self.subject_reference:
            return SUBJECT, self.subject_reference
        return None


def find_case_reference(parsed: ParsedEmail, secret: bytes | Sequence[bytes]) -> ThreadingHints:
    """Collect the threading hints of an inbound message (see ThreadingHints.resolve)."""
    answered = [parsed.in_reply_to] if parsed.in_reply_to else []
    answered += reversed(parsed.references)
    candidates = [mid for mid in dict.fromkeys(answered) if mid != parsed.message_id]
    signed = next((ref for mid in candidates
                   if (ref := case_reference_from_message_id(mid, secret))), None)
    return ThreadingHints(signed_reference=signed, candidate_message_ids=candidates,
                          subject_reference=case_reference_from_subject(parsed.subject))
