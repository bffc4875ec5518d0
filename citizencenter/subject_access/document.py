"""The export of one person's data: a JSON document and their files, in one ZIP archive.

Every column of every row is written (a new column is exported without a change here);
bytes go into the archive as files and the document names the file. The personnummer
found on the person's cases are written in clear: the export is for the person themself.
"""

import enum
import io
import json
import re
import uuid
import zipfile
from datetime import date, datetime

from sqlalchemy import inspect, or_, select, tuple_
from sqlalchemy.orm import Session

from citizencenter.cases.models import Message
from citizencenter.channels.email.models import (
    AcknowledgedSender,
    EmailAttachment,
    EmailMessage,
)
from citizencenter.channels.phone.models import CallEvent
from citizencenter.channels.social.models import SocialConversation, SocialMessage
from citizencenter.db import utcnow
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.privacy import service as privacy
from citizencenter.subject_access.finding import Person

FORMAT = "citizencenter.subject-access/1"
DOCUMENT_NAME = "personal-data.json"
_UNSAFE = re.compile(r"[^\w.-]+", re.ASCII)


class Archive:
    """The files of the export, by their path in the archive."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def add(self, folder: str, row_id: int, name: str | None, content: bytes) -> str:
        # Only our id and a tame name: a citizen's filename never climbs out of the folder.
        safe = _UNSAFE.sub("_", name or "").strip("._")[:80] or "file"
        path = f"{folder}/{row_id}-{safe}"
        self.files[path] = bytes(content)
        return path


def build(session: Session, person: Person) -> tuple[dict, Archive]:
    """The document of everything held about `person`, and the files it names."""
    archive, case_ids = Archive(), person.case_ids
    messages = _by_case(session, Message, case_ids, Message.created_at)
    emails = _by_case(session, EmailMessage, case_ids, EmailMessage.created_at)
    attachments = _by_case(session, EmailAttachment, case_ids)
    requests = _by_case(session, FeedbackRequest, case_ids)
    responses = _by_case(session, FeedbackResponse, case_ids)
    cases = []
    for case in person.cases:
        cases.append({
            **plain(case),
            "category": case.category.name if case.category else None,
            "department": case.department.name if case.department else None,
            "identity_numbers": _numbers(session, person, case),
            "messages": [{**plain(m), "author": m.author.name if m.author else None}
                         for m in messages.get(case.id, [])],
            "emails": [_email(e, archive) for e in emails.get(case.id, [])],
            "attachments": [_attachment(a, archive) for a in attachments.get(case.id, [])],
            "feedback_requests": [plain(r, exclude=("nonce",))
                                  for r in requests.get(case.id, [])],
            "feedback_responses": [plain(r) for r in responses.get(case.id, [])],
        })
    document = {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "identified_by": person.identifier.kind,
        "contacts": [{**plain(c), "identities": [plain(i) for i in c.identities]}
                     for c in person.contacts],
        "cases": cases,
        "calls": _calls(session, person),
        "social_conversations": _social(session, person),
        "acknowledgements": [plain(a) for a in session.scalars(
            select(AcknowledgedSender).where(
                AcknowledgedSender.address.in_(sorted(person.emails))))],
    }
    return document, archive


def zipped(document: dict, archive: Archive) -> bytes:
    """The document and its files as one ZIP archive."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(DOCUMENT_NAME, json.dumps(document, ensure_ascii=False, indent=2))
        for path, content in archive.files.items():
            zf.writestr(path, content)
    return out.getvalue()


def plain(row, *, exclude: tuple[str, ...] = ()) -> dict:
    """Every column of `row`, as JSON keeps it; bytes are left to the caller."""
    values = {}
    for column in inspect(type(row)).columns:
        key = column.key
        if key in exclude:
            continue
        value = getattr(row, key)
        if isinstance(value, (bytes, memoryview)):
            continue
        values[key] = _json(value)
    return values


def _numbers(session: Session, person: Person, case) -> list[dict]:
    """The numbers found on the case, in clear: all of them on the person's own cases, only
    theirs on a case someone else raised about them."""
    numbers = privacy.numbers_of(session, case.id)
    if person.is_own(case):
        return numbers
    return [n for n in numbers if person.identifier.kind == "personnummer"
            and n["number"] == person.identifier.value]


def _json(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _by_case(session: Session, model, case_ids: list, *order) -> dict:
    grouped: dict = {}
    if case_ids:
        rows = session.scalars(select(model).where(model.case_id.in_(case_ids))
                               .order_by(*order, model.id))
        for row in rows:
            grouped.setdefault(row.case_id, []).append(row)
    return grouped


def _email(row: EmailMessage, archive: Archive) -> dict:
    entry = plain(row)
    if row.raw is not None:  # outbound mail, the bytes that were sent
        entry["file"] = archive.add("emails", row.id, f"{row.kind}.eml", row.raw)
    return entry


def _attachment(row: EmailAttachment, archive: Archive) -> dict:
    entry = plain(row)
    if row.content is not None:
        entry["file"] = archive.add("attachments", row.id, row.filename, row.content)
    return entry


def _calls(session: Session, person: Person) -> list[dict]:
    if not person.calls:
        return []
    keys = [(c.source, c.call_id) for c in person.calls]
    events: dict = {}
    for event in session.scalars(select(CallEvent)
                                 .where(tuple_(CallEvent.source, CallEvent.call_id).in_(keys))
                                 .order_by(CallEvent.occurred_at, CallEvent.sequence,
                                           CallEvent.id)):
        events.setdefault((event.source, event.call_id), []).append(plain(event))
    return [{**plain(call), "events": events.get((call.source, call.call_id), [])}
            for call in person.calls]


def _social(session: Session, person: Person) -> list[dict]:
    mine = [SocialConversation.case_id.in_(person.case_ids),
            SocialConversation.contact_id.in_([c.id for c in person.contacts])]
    conversations = list(session.scalars(select(SocialConversation).where(or_(*mine))
                                         .order_by(SocialConversation.id)))
    if not conversations:
        return []
    messages: dict = {}
    for message in session.scalars(select(SocialMessage).where(
            SocialMessage.conversation_id.in_([c.id for c in conversations]))
            .order_by(SocialMessage.sent_at, SocialMessage.id)):
        messages.setdefault(message.conversation_id, []).append(plain(message))
    return [{**plain(c), "messages": messages.get(c.id, [])} for c in conversations]
