"""The sink's mail on disk: one `.eml` file per message, named by the moment it was kept,
so a directory listing is the order of sending. Only names of that form are ever read."""

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

NAME = re.compile(r"^(\d{8}T\d{12})Z-[0-9a-f]{32}\.eml$")
LIST_LIMIT = 200


@dataclass
class KeptMail:
    name: str
    kept_at: datetime
    to: str
    subject: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str | None = None
    html: str | None = None


def keep(directory: Path, raw: bytes, now: datetime | None = None) -> Path:
    """Write one message whole (a reader never sees half a file); private to the user."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    name = f"{moment:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex}.eml"
    partial = directory / f".{name}.part"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(raw)
    os.replace(partial, directory / name)
    return directory / name


def list_mail(directory: Path, limit: int = LIST_LIMIT) -> list[KeptMail]:
    """The kept messages, newest first (to, subject and time only)."""
    if not directory.is_dir():
        return []
    names = sorted((p.name for p in directory.iterdir() if NAME.match(p.name)), reverse=True)
    return [_read(directory, name, whole=False) for name in names[:limit]]


def read_mail(directory: Path, name: str) -> KeptMail | None:
    """One kept message with its headers and bodies; None for any other name."""
    if not NAME.match(name) or not (directory / name).is_file():
        return None
    return _read(directory, name, whole=True)


def _read(directory: Path, name: str, whole: bool) -> KeptMail:
    message = message_from_bytes((directory / name).read_bytes(), policy=policy.default)
    kept_at = datetime.strptime(NAME.match(name).group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    mail = KeptMail(name=name, kept_at=kept_at, to=str(message["To"] or ""),
                    subject=str(message["Subject"] or ""))
    if whole:
        mail.headers = [(key, str(value)) for key, value in message.items()]
        mail.text = _body(message, "plain")
        mail.html = _body(message, "html")
    return mail


def _body(message, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    try:
        return part.get_content()
    except (LookupError, ValueError):  # an unknown charset: show what can be shown
        return part.get_payload(decode=True).decode("utf-8", "replace")
