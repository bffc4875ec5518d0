"""Allmän handling: one case as a self-contained archival document for the records system.

Inquiries to a municipality are public records unless secrecy applies, and are registered
in its records system (diariet) under a diarienummer. The document holds the case's facts,
its whole conversation and notes in order, and its attachments listed (name, size, type,
SHA-256): one HTML file with nothing loaded from anywhere, so it reads the same in the
archive years from now. Identity numbers appear only masked. Producing it is a read of the
case (access rules, the read audited) and is audited as an export of its own.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import User
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Direction
from citizencenter.cases.models import Message
from citizencenter.channels.email.models import EmailAttachment
from citizencenter.db import utcnow
from citizencenter.privacy import service as privacy
from citizencenter.web import texts

LOCAL_TIME = ZoneInfo("Europe/Stockholm")
_templates = Environment(loader=PackageLoader("citizencenter.records", "templates"),
                         autoescape=select_autoescape(default=True), trim_blocks=True,
                         lstrip_blocks=True)


@dataclass(frozen=True)
class ArchiveDocument:
    filename: str
    html: str


def _masked(text: str | None) -> str:
    # Text is masked as it is stored; this holds for text kept before masking began too.
    return privacy.mask(text)[0] or ""


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


_templates.filters.update(masked=_masked, local=_local)
_templates.globals.update(t=texts.t)


def archive_case(session: Session, actor: Principal, case_id: uuid.UUID, *,
                 now: datetime | None = None) -> ArchiveDocument:
    """The case as one archival HTML document; the export is audited."""
    case = cases.shown_case(session, actor, case_id, "archive")
    messages = session.scalars(select(Message).where(Message.case_id == case.id)
                               .order_by(Message.created_at, Message.id)).all()
    attachments = session.scalars(select(EmailAttachment)
                                  .where(EmailAttachment.case_id == case.id)
                                  .order_by(EmailAttachment.id)).all()
    exported_by = session.get(User, actor.user_id) if actor.user_id is not None else None
    html = _templates.get_template("records/archive.html").render(
        case=case, attachments=attachments, now=now or utcnow(),
        conversation=[m for m in messages if m.direction != Direction.INTERNAL],
        notes=[m for m in messages if m.direction == Direction.INTERNAL],
        exported_by=exported_by.name if exported_by else actor.actor)
    audit.record(session, actor.actor, "case.archived", "case", case.id,
                 diarienummer=case.diarienummer, messages=len(messages),
                 attachments=len(attachments))
    session.commit()
    return ArchiveDocument(f"arende-{case.reference}.html", html)
