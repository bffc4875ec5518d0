"""Meta's Messenger Platform and Instagram Messaging webhooks, and the Send API request.

Meta signs each POST with the app secret (X-Hub-Signature-256 over the raw body) and
batches events: entry[] per page or Instagram account, messaging[] per event. Delivery
is at least once, so every message carries its `mid` as the dedupe key.
"""

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

PLATFORMS = {"page": "messenger", "instagram": "instagram"}
GRAPH_URL = "https://graph.facebook.com"
MAX_TEXT_LENGTH = 2000
SIGNATURE_PREFIX = "sha256="
_CHALLENGE = re.compile(r"[\w.-]{1,256}")
_SIGNATURE_HEX = re.compile(r"[0-9a-fA-F]{64}")
# Events that tell us about our own messages or the citizen's UI, never new content.
_NON_MESSAGE_EVENTS = ("delivery", "read", "reaction", "postback", "optin", "referral",
                       "account_linking", "message_edit", "pass_thread_control",
                       "take_thread_control", "request_thread_control", "policy_enforcement")


class MetaError(Exception):
    """A webhook request from Meta that must be refused."""


class MetaVerificationFailed(MetaError):
    """The GET subscription handshake did not carry our verify token."""


class MetaSignatureInvalid(MetaError):
    """X-Hub-Signature-256 is missing, malformed or does not match the body."""


class MetaPayloadInvalid(MetaError):
    """The JSON body does not have the documented shape; the message names the field."""


@dataclass(frozen=True)
class MetaAttachment:
    """A file, image, audio, video or shared item; url is None for templates and the like."""

    type: str
    url: str | None


@dataclass(frozen=True)
class MetaMessage:
    """One message event, from the citizen or (is_echo) sent from the page itself."""

    platform: str
    page_or_account_id: str
    sender_id: str
    recipient_id: str
    mid: str
    text: str | None
    attachments: tuple[MetaAttachment, ...]
    timestamp: datetime
    is_echo: bool

    @property
    def citizen_id(self) -> str:
        """The citizen's page- or account-scoped id: for an echo the recipient."""
        return self.recipient_id if self.is_echo else self.sender_id

    @property
    def conversation_key(self) -> tuple[str, str, str]:
        """(platform, page or account id, citizen id): one case per conversation."""
        return self.platform, self.page_or_account_id, self.citizen_id


@dataclass
class WebhookBatch:
    """The messages of one webhook delivery and a count of the events passed over."""

    messages: list[MetaMessage] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)


def verify_subscription(args: Mapping[str, str], verify_token: str) -> str:
    """Return hub.challenge for Meta's subscription GET if hub.verify_token is ours."""
    given = args.get("hub.verify_token") or ""
    challenge = args.get("hub.challenge") or ""
    if not verify_token:
        raise MetaVerificationFailed("no verify token is configured")
    if args.get("hub.mode") != "subscribe":
        raise MetaVerificationFailed("hub.mode must be 'subscribe'")
    if not hmac.compare_digest(given.encode("utf-8"), verify_token.encode("utf-8")):
        raise MetaVerificationFailed("hub.verify_token does not match")
    # The challenge is echoed back verbatim, so only a plain token is accepted.
    if not _CHALLENGE.fullmatch(challenge):
        raise MetaVerificationFailed("hub.challenge is missing or malformed")
    return challenge


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> None:
    """Check X-Hub-Signature-256 (sha256=<hex HMAC of the raw body>); raise if it fails."""
    if not app_secret:
        raise ValueError("app secret must not be empty")
    if not header:
        raise MetaSignatureInvalid("X-Hub-Signature-256 is missing")
    header = header.strip()
    given = header[len(SIGNATURE_PREFIX):]
    if not header.startswith(SIGNATURE_PREFIX) or not _SIGNATURE_HEX.fullmatch(given):
        raise MetaSignatureInvalid("X-Hub-Signature-256 is not sha256=<64 hex digits>")
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise MetaSignatureInvalid("X-Hub-Signature-256 does not match the body")


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise MetaPayloadInvalid(f"{where} must be an object")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise MetaPayloadInvalid(f"{where} must be a list")
    return value


def _id(value: Any, where: str) -> str:
    # Ids are documented as strings; numbers are accepted as long as they are whole.
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise MetaPayloadInvalid(f"{where} must be a non-empty id")
    return str(value).strip()


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise MetaPayloadInvalid(f"{where} must be milliseconds since the epoch")
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise MetaPayloadInvalid(f"{where} is out of range") from None


def _attachments(message: dict, where: str) -> tuple[MetaAttachment, ...]:
    found = []
    for index, item in enumerate(_list(message.get("attachments", []), f"{where}.attachments")):
        at = f"{where}.attachments[{index}]"
        item = _object(item, at)
        kind = item.get("type")
        if not isinstance(kind, str) or not kind:
            raise MetaPayloadInvalid(f"{at}.type must be a non-empty string")
        payload = item.get("payload") or {}
        url = _object(payload, f"{at}.payload").get("url")
        if url is not None and not isinstance(url, str):
            raise MetaPayloadInvalid(f"{at}.payload.url must be a string")
        found.append(MetaAttachment(type=kind, url=url))
    return tuple(found)


def _message(platform: str, page_id: str, event: dict, where: str) -> MetaMessage:
    message = _object(event["message"], f"{where}.message")
    mid = message.get("mid")
    if not isinstance(mid, str) or not mid:
        raise MetaPayloadInvalid(f"{where}.message.mid must be a non-empty string")
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise MetaPayloadInvalid(f"{where}.message.text must be a string")
    return MetaMessage(
        platform=platform, page_or_account_id=page_id,
        sender_id=_id(_object(event.get("sender"), f"{where}.sender").get("id"),
                      f"{where}.sender.id"),
        recipient_id=_id(_object(event.get("recipient"), f"{where}.recipient").get("id"),
                         f"{where}.recipient.id"),
        mid=mid, text=text, attachments=_attachments(message, f"{where}.message"),
        timestamp=_timestamp(event.get("timestamp"), f"{where}.timestamp"),
        is_echo=message.get("is_echo") is True)


def parse_webhook_batch(payload: Any) -> WebhookBatch:
    """Read a webhook body into message events, counting the events passed over."""
    payload = _object(payload, "payload")
    kind = payload.get("object")
    platform = PLATFORMS.get(kind) if isinstance(kind, str) else None
    if platform is None:
        raise MetaPayloadInvalid("object must be 'page' or 'instagram'")
    batch = WebhookBatch()
    for entry_index, entry in enumerate(_list(payload.get("entry"), "entry")):
        at = f"entry[{entry_index}]"
        entry = _object(entry, at)
        page_id = _id(entry.get("id"), f"{at}.id")
        if "messaging" not in entry:
            # Handover "standby" and feed "changes" arrive in the same subscription.
            kind = next((name for name in ("standby", "changes") if name in entry), "other")
            batch.ignored[kind] += 1
            continue
        for index, event in enumerate(_list(entry["messaging"], f"{at}.messaging")):
            where = f"{at}.messaging[{index}]"
            event = _object(event, where)
            if "message" in event:
                if _object(event["message"], f"{where}.message").get("is_deleted") is True:
                    batch.ignored["message_deleted"] += 1
                    continue
                batch.messages.append(_message(platform, page_id, event, where))
            else:
                kind = next((name for name in _NON_MESSAGE_EVENTS if name in event), "other")
                batch.ignored[kind] += 1
    return batch


def parse_webhook(payload: Any) -> list[MetaMessage]:
    """Return the message events of a webhook body (echoes included, flagged by is_echo)."""
    return parse_webhook_batch(payload).messages


@dataclass(frozen=True)
class SendRequest:
    """An HTTP request ready for any client; repr hides the token and the citizen's text."""

    method: str
    url: str = field(repr=False)
    headers: dict[str, str]
    body: bytes = field(repr=False)


def appsecret_proof(page_access_token: str, app_secret: str) -> str:
    """Sign the access token with the app secret (HMAC-SHA256), as the Graph API expects."""
    return hmac.new(app_secret.encode("utf-8"), page_access_token.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Cut text into parts of at most limit UTF-16 units, at paragraph, line or word ends."""
    parts = []
    rest = text.strip()
    while _utf16_length(rest) > limit:
        end, units = 0, 0
        while units + _utf16_length(rest[end]) <= limit:
            units += _utf16_length(rest[end])
            end += 1
        end = max(end, 1)  # a limit below one character still makes progress
        window = rest[:end]
        cut = next((position for separator in ("\n\n", "\n", " ")
                    if (position := window.rfind(separator)) > limit // 2), end)
        parts.append(window[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def build_send_request(page_access_token: str, app_secret: str, recipient_id: str, text: str,
                       *, graph_version: str = "v19.0") -> list[SendRequest]:
    """Send API requests answering a citizen; one per 2000-character part of the text."""
    if not page_access_token or not app_secret:
        raise ValueError("page access token and app secret are required")
    if not recipient_id:
        raise ValueError("recipient id is required")
    if not re.fullmatch(r"v\d+\.\d+", graph_version):
        raise ValueError("graph_version looks like v19.0")
    parts = split_text(text)
    if not parts:
        raise ValueError("text must not be empty")
    query = urlencode({"access_token": page_access_token,
                       "appsecret_proof": appsecret_proof(page_access_token, app_secret)})
    url = f"{GRAPH_URL}/{graph_version}/me/messages?{query}"
    return [SendRequest(
        method="POST", url=url, headers={"Content-Type": "application/json"},
        body=json.dumps({"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE",
                         "message": {"text": part}},
                        separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        for part in parts]
