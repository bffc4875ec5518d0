"""Reading a raw inbound e-mail into what the centre needs: who, what, threading, files.

Citizens' mail is often malformed (broken MIME, mislabelled charsets, odd headers);
everything that can be read is kept and each problem is listed in `defects`, so one
bad header never costs the whole message.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import BaseHeader
from email.message import Message
from email.parser import BytesParser

from citizencenter.channels.email.attachments import Attachment, safe_filename, screen
from citizencenter.channels.email.charsets import decode_text, recover_header_bytes
from citizencenter.channels.email.sanitising import html_to_text, sanitise_html

MiB = 1024 * 1024
KEPT_HEADERS = ("Message-ID", "In-Reply-To", "References", "Subject", "From", "To", "Cc",
                "Date", "Auto-Submitted", "Precedence", "X-Auto-Response-Suppress", "List-Id",
                "Return-Path")
# At least one of these must be present for the bytes to count as a message at all.
_MESSAGE_HEADERS = {"from", "to", "cc", "subject", "date", "message-id", "received",
                    "return-path", "mime-version", "content-type", "sender", "reply-to",
                    "in-reply-to", "references", "delivered-to"}
_CASE_TAG = re.compile(r"\[\s*(MC-\d{4}-\d{6,})\s*\]", re.IGNORECASE)
_MSG_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")
_MAX_MESSAGE_ID = 250
_MAX_MIME_DEPTH = 30
_NOREPLY = re.compile(r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:[-+._].*)?$")
_MAILER_DAEMONS = {"mailer-daemon", "postmaster"}


class EmailError(Exception):
    """A raw message that cannot be accepted at all."""


class MessageTooLarge(EmailError):
    """Larger than the hard limit; refused before parsing to bound memory."""


class UnparseableMessage(EmailError):
    """Not an RFC 5322 message (empty, or no header block)."""


@dataclass(kw_only=True)
class ParsedEmail:
    """What one inbound message says, ready to be stored."""

    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_address: str | None
    from_name: str | None
    to: list[str]
    cc: list[str]
    date: datetime | None
    text: str
    html: str | None
    attachments: list[Attachment]
    headers: dict[str, str]
    content_hash: str
    dedupe_key: str
    defects: list[str] = field(default_factory=list)
    is_bounce: bool = False
    auto_submitted_reason: str | None = None
    case_reference: str | None = None


def normalise_message_id(value: str | None) -> str | None:
    """Return the id inside the first <…> (or a bare id@domain token), without brackets."""
    if not value:
        return None
    match = _MSG_ID.search(value)
    if match:
        candidate = match.group(1)
    else:
        candidate = value.strip()
        if "@" not in candidate or re.search(r"[\s<>]", candidate):
            return None
    return candidate if len(candidate) <= _MAX_MESSAGE_ID else None


def message_id_list(value: str | None) -> list[str]:
    """List the ids of an In-Reply-To or References value, in order, without repeats."""
    ids: list[str] = []
    for candidate in _MSG_ID.findall(value or ""):
        if len(candidate) <= _MAX_MESSAGE_ID and candidate not in ids:
            ids.append(candidate)
    return ids


def case_reference_from_subject(subject: str | None) -> str | None:
    """Return the case reference of a subject tag like [MC-2026-000123], or None."""
    match = _CASE_TAG.search(subject or "")
    return match.group(1).upper() if match else None


def _raw_headers(part: Message) -> dict[str, list[str]]:
    """Header values as received, unfolded, by lower-case name.

    raw_items() is used because msg[name] parses the value and may raise on malformed
    structured headers (e.g. a Message-ID of "<<>>").
    """
    found: dict[str, list[str]] = {}
    for name, value in part.raw_items():
        unfolded = re.sub(r"\r?\n", "", recover_header_bytes(str(value)))
        found.setdefault(name.lower(), []).append(unfolded)
    return found


def _content_type(part: Message) -> str | None:
    try:
        return part.get_content_type()
    except Exception:  # an unreadable Content-Type header
        return None


def _defect_name(defect: object) -> str:
    name = type(defect).__name__.removesuffix("Defect")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class _Headers:
    """Header access that falls back to the raw value where the stdlib parser gives up."""

    def __init__(self, msg: Message, defects: list[str]):
        self._defects = defects
        self._raw = _raw_headers(msg)

    @property
    def names(self) -> set[str]:
        return set(self._raw)

    def raw(self, name: str) -> str | None:
        values = self._raw.get(name.lower())
        return values[0].strip() if values else None

    def _structured(self, name: str, value: str) -> BaseHeader | None:
        try:
            header = policy.default.header_factory(name, value)
        except Exception:  # the stdlib header parser has raised on odd input before
            self._defects.append(f"unparseable-header:{name.lower()}")
            return None
        self._defects.extend(f"{_defect_name(d)}:{name.lower()}" for d in header.defects)
        return header

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        header = self._structured(name, value)
        return re.sub(r"\s+", " ", str(header) if header is not None else value).strip()

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) pairs; entries without an @ left out."""
        found: list[tuple[str, str]] = []
        for value in self._raw.get(name.lower(), []):
            header = self._structured(name, value)
            if header is None:
                continue
            for address in getattr(header, "addresses", ()):
                spec = address.addr_spec.strip().lower()
                if re.fullmatch(r"[^@\s]+@[^@\s]+", spec):
                    found.append((address.display_name or "", spec))
        return found

    def date(self) -> datetime | None:
        value = self.raw("Date")
        header = self._structured("Date", value) if value else None
        moment = getattr(header, "datetime", None)
        if moment is None:
            return None
        # "-0000" means UTC with unknown local time; it comes back naive.
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _load(raw: bytes, defects: list[str]) -> Message:
    if not raw.strip():
        raise UnparseableMessage("empty message")
    try:
        msg: Message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # structured header parsing during the MIME walk can raise
        defects.append("parsed-with-compat32")
        try:
            msg = BytesParser(policy=policy.compat32).parsebytes(raw)
        except Exception as exc:
            raise UnparseableMessage(
                f"unreadable MIME structure ({type(exc).__name__})") from exc
    if not {name.lower() for name, _ in msg.raw_items()} & _MESSAGE_HEADERS:
        raise UnparseableMessage("no message header block")
    return msg


class _Body:
    """Text parts and attachments found by walking the MIME tree once."""

    def __init__(self, max_attachment_bytes: int, defects: list[str]):
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self._max = max_attachment_bytes
        self._defects = defects

    def walk(self, part: Message, depth: int = 0) -> None:
        if depth > _MAX_MIME_DEPTH:
            self._defects.append("mime-too-deep")
            return
        self._visit(part, depth)
        # Decoding a payload records its defects on the part, so read them afterwards.
        self._defects.extend(_defect_name(d) for d in part.defects)

    def _visit(self, part: Message, depth: int) -> None:
        content_type = _content_type(part)
        if content_type is None:  # an unreadable Content-Type means text/plain (RFC 2045)
            self._defects.append("unparseable-content-type")
            content_type = "text/plain"
        if part.is_multipart() and not content_type.startswith("message/"):
            for child in part.get_payload():
                self.walk(child, depth + 1)
            return
        try:
            disposition = part.get_content_disposition()
            filename = safe_filename(part.get_filename())
        except Exception:  # malformed parameters: keep the part, lose its name
            self._defects.append("unparseable-content-disposition")
            disposition, filename = None, None
        maintype, subtype = content_type.split("/", 1)
        if maintype == "multipart":
            recovered = _recover_multipart(part, content_type)
            if recovered is not None:
                self._defects.append("boundary-guessed")
                self.walk(recovered, depth + 1)
                return
        if disposition != "attachment" and filename is None and (
                (maintype == "text" and subtype in ("plain", "html")) or maintype == "multipart"):
            # A multipart without a usable boundary arrives as one flat text part.
            self._text_part(part, "html" if subtype == "html" else "plain")
        else:
            self._attachment(part, content_type, disposition, filename)

    def _text_part(self, part: Message, kind: str) -> None:
        payload = part.get_payload(decode=True) or b""
        try:
            charset = part.get_content_charset()
        except Exception:  # a broken parameter list: guess the charset from the bytes
            charset = None
        text, defect = decode_text(payload, charset)
        if defect:
            self._defects.append(defect)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        (self.html if kind == "html" else self.plain).append(text)

    def _attachment(self, part: Message, content_type: str, disposition: str | None,
                    filename: str | None) -> None:
        if content_type.startswith("message/"):
            content = _message_bytes(part, self._defects)
            if content_type == "message/rfc822":
                filename = filename or "forwarded-message.eml"
        else:
            content = part.get_payload(decode=True) or b""
        raw_id = next(iter(_raw_headers(part).get("content-id", [])), "")
        content_id = raw_id.strip().strip("<>").strip() or None
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        self.attachments.append(screen(filename, content_type, content, max_bytes=self._max,
                                       inline=inline, content_id=content_id))


def _recover_multipart(part: Message, content_type: str) -> Message | None:
    """Re-read a multipart whose boundary parameter is missing, using its first --line."""
    body = part.get_payload(decode=True) or b""
    match = re.search(rb"^--([ -~]{1,70}?)[ \t]*\r?$", body, re.MULTILINE)
    if match is None:
        return None
    boundary = match.group(1).decode("ascii").replace('"', "")
    if not re.fullmatch(r"multipart/[A-Za-z0-9.+-]+", content_type):
        content_type = "multipart/mixed"
    head = f'Content-Type: {content_type}; boundary="{boundary}"\r\n\r\n'.encode("ascii")
    recovered = BytesParser(policy=policy.default).parsebytes(head + body)
    return recovered if recovered.is_multipart() else None


def _message_bytes(part: Message, defects: list[str]) -> bytes:
    """The body of a message/* part (an attached mail, a delivery report) as bytes."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return part.get_payload(decode=True) or b""
    for generator_policy in (policy.default, policy.compat32):
        try:
            return b"".join(inner.as_bytes(policy=generator_policy) for inner in payload)
        except Exception:  # refolding broken headers can fail; try the older policy
            continue
    defects.append("unreadable-attached-message")
    return b""


def _is_bounce(msg: Message, headers: _Headers, from_address: str | None) -> bool:
    try:
        report_type = str(msg.get_param("report-type", "") or "").lower()
    except Exception:  # broken parameters: not a well-formed report
        report_type = ""
    if _content_type(msg) == "multipart/report" and report_type == "delivery-status":
        return True
    local = (from_address or "").split("@")[0]
    return local in _MAILER_DAEMONS and (headers.raw("Return-Path") or "").strip() == "<>"


def _auto_submitted_reason(msg: Message, headers: _Headers, from_address: str | None,
                           is_bounce: bool) -> str | None:
    """Why this message looks machine-sent (RFC 3834 and common practice), or None."""
    # The keyword may be followed by parameters or a comment: "auto-replied; owner=…".
    auto_submitted = re.split(r"[\s;(]", (headers.raw("Auto-Submitted") or "no").strip())[0]
    precedence = (headers.raw("Precedence") or "").strip().lower()
    local = (from_address or "").split("@")[0]
    if is_bounce:
        return "bounce"
    if auto_submitted.lower() != "no" or _content_type(msg) == "multipart/report":
        return "auto-submitted"
    if headers.raw("X-Auto-Response-Suppress") is not None:
        return "x-auto-response-suppress"
    if precedence in ("bulk", "list", "junk"):
        return "precedence"
    if any(name.startswith("list-") for name in headers.names):
        return "list"
    if local in _MAILER_DAEMONS:
        return "mailer-daemon"
    if _NOREPLY.match(local):
        return "noreply"
    return None


def _normalised_form(parsed: dict) -> bytes:
    """The parts of a message that stay the same when it is delivered twice."""
    text = "\n".join(line.rstrip() for line in parsed["text"].splitlines())
    form = {
        "from": parsed["from_address"], "to": sorted(parsed["to"]), "cc": sorted(parsed["cc"]),
        "date": parsed["date"].astimezone(UTC).isoformat() if parsed["date"] else None,
        "subject": " ".join(parsed["subject"].split()),
        "text": re.sub(r"\n{3,}", "\n\n", text).strip(),
        "attachments": [[a.filename, a.size, a.detected_type,
                         hashlib.sha256(a.content).hexdigest() if a.content else None]
                        for a in parsed["attachments"]],
    }
    return json.dumps(form, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def parse_message(raw: bytes, *, max_attachment_bytes: int = 10 * MiB,
                  max_total_bytes: int = 25 * MiB) -> ParsedEmail:
    """Parse raw RFC 5322 bytes; raise MessageTooLarge or UnparseableMessage.

    max_total_bytes bounds the raw message, and with it all attachments together
    (decoded content is never larger than its transfer encoding).
    """
    if len(raw) > max_total_bytes:
        raise MessageTooLarge(f"message of {len(raw)} bytes exceeds {max_total_bytes}")
    defects: list[str] = []
    msg = _load(raw, defects)
    headers = _Headers(msg, defects)

    senders = headers.addresses("From")
    from_name, from_address = senders[0] if senders else (None, None)
    if from_address is None:
        defects.append("missing-from" if headers.raw("From") is None else "invalid-from")
    body = _Body(max_attachment_bytes, defects)
    body.walk(msg)

    html = sanitise_html("\n".join(body.html)).strip() if body.html else None
    text = "\n".join(body.plain).replace("\x00", "")
    if not text.strip() and html:
        text = html_to_text(html)
    subject = headers.text("Subject") or ""
    message_id = normalise_message_id(headers.raw("Message-ID"))
    if headers.raw("Message-ID") is not None and message_id is None:
        defects.append("invalid-message-id")
    fields = {"from_address": from_address, "to": [a for _, a in headers.addresses("To")],
              "cc": [a for _, a in headers.addresses("Cc")], "date": headers.date(),
              "subject": subject, "text": text, "attachments": body.attachments}
    content_hash = hashlib.sha256(_normalised_form(fields)).hexdigest()
    is_bounce = _is_bounce(msg, headers, from_address)
    kept = {name: value for name in KEPT_HEADERS
            if (value := (headers.text(name) if name in ("Subject", "From", "To", "Cc")
                          else headers.raw(name))) is not None}
    return ParsedEmail(
        message_id=message_id,
        in_reply_to=next(iter(message_id_list(headers.raw("In-Reply-To"))), None),
        references=message_id_list(headers.raw("References")),
        from_name=from_name or None, html=html, headers=kept, content_hash=content_hash,
        dedupe_key=message_id or f"sha256:{content_hash}",
        defects=list(dict.fromkeys(defects)), is_bounce=is_bounce,
        auto_submitted_reason=_auto_submitted_reason(msg, headers, from_address, is_bounce),
        case_reference=case_reference_from_subject(subject), **fields)
