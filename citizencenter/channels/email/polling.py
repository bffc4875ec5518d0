"""Polling IMAP mailboxes: each new UID stored or quarantined, and the position kept.

The position (UIDVALIDITY, last UID) lives in the database and advances in the same
commit as the message it covers, so a crash repeats at most the message in hand, and
that one is recognised by its dedupe key. A changed UIDVALIDITY means the folder was
rebuilt: reading starts over and the dedupe keys keep the known mail from repeating.
Marking on the server (move or keyword) follows the commit and is only for people
looking at the mailbox; the database position is what counts.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from citizencenter.channels.email import inbound
from citizencenter.channels.email import quarantine as quarantine_service
from citizencenter.channels.email.imap import ImapError, ImapFolder
from citizencenter.channels.email.models import MailboxState
from citizencenter.channels.email.parsing import EmailError, MessageTooLarge
from citizencenter.channels.email.settings import Mailbox, mailboxes
from citizencenter.db import insert_if_absent, utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BATCH = 200  # per poll, so one poll never holds its lease for long


@dataclass
class PollResult:
    mailbox: str
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: bool = False  # another poll of this mailbox is running
    error: str | None = None
    outcomes: list[str] = field(default_factory=list)


def poll_all(session: Session, config: Mapping) -> list[PollResult]:
    """Poll every configured mailbox once; one failing mailbox does not stop the others."""
    return [poll_mailbox(session, mailbox, config) for mailbox in mailboxes(config)]


def poll_mailbox(session: Session, mailbox: Mailbox, config: Mapping) -> PollResult:
    """Read the new mail of one mailbox; every message is committed on its own."""
    result = PollResult(mailbox.name)
    if not _take_lease(session, mailbox.name):
        result.skipped = True
        return result
    error = None
    try:
        with ImapFolder(mailbox, config["IMAP_TIMEOUT_S"]) as folder:
            state = session.get(MailboxState, mailbox.name, populate_existing=True)
            if state.uidvalidity != folder.uidvalidity:
                if state.uidvalidity is not None:
                    log.warning("mailbox %s: UIDVALIDITY changed; reading it again",
                                mailbox.name)
                state.uidvalidity, state.last_uid = folder.uidvalidity, 0
                session.commit()
            for uid, size in list(folder.new_messages(state.last_uid, BATCH)):
                outcome = _one(session, folder, state, uid, size, config)
                result.outcomes.append(outcome)
                setattr(result, outcome, getattr(result, outcome) + 1)
    except ImapError as exc:
        session.rollback()
        error = result.error = str(exc)
        log.warning("mailbox %s: %s", mailbox.name, exc)
    finally:
        session.execute(update(MailboxState).where(MailboxState.name == mailbox.name)
                        .values(locked_until=None, last_polled_at=utcnow(), last_error=error))
        session.commit()
    return result


def _one(session: Session, folder: ImapFolder, state: MailboxState, uid: int, size: int,
         config: Mapping) -> str:
    """Store or quarantine one message and advance the position in the same commit."""
    position = {"mailbox": state.name, "uidvalidity": state.uidvalidity, "uid": uid}
    if size > config["EMAIL_MAX_MESSAGE_BYTES"]:
        # Not even fetched: it stays in the mailbox, recorded here for an administrator.
        outcome = _quarantine(session, None, size, quarantine_service.TOO_LARGE,
                              f"{size} bytes", position)
    else:
        raw = folder.fetch(uid)
        try:
            stored = inbound.store(session, inbound.parse(raw, config), config,
                                   mailbox=state.name)
            outcome = "stored" if stored.status == "stored" else "duplicates"
        except MessageTooLarge as exc:
            outcome = _quarantine(session, None, len(raw), quarantine_service.TOO_LARGE,
                                  str(exc), position)
        except EmailError as exc:
            outcome = _quarantine(session, raw, len(raw), quarantine_service.UNPARSEABLE,
                                  str(exc), position)
        except Exception as exc:  # one broken message must not block the ones after it
            outcome = _quarantine(session, raw, len(raw),
                                  quarantine_service.PROCESSING_ERROR, type(exc).__name__,
                                  position, error=exc)
    state.last_uid = max(state.last_uid, uid)
    state.locked_until = utcnow() + LEASE
    session.commit()
    folder.mark(uid, quarantined=outcome == "quarantined")
    return outcome


def _quarantine(session: Session, raw: bytes | None, size: int, reason: str, detail: str,
                position: dict, error: BaseException | None = None) -> str:
    session.rollback()
    quarantine_service.quarantine(session, raw, size=size, reason=reason, detail=detail,
                                  error=error, **position)
    return "quarantined"


def _take_lease(session: Session, name: str) -> bool:
    """Only one poll per mailbox at a time, on both engines (conditional UPDATE)."""
    now = utcnow()
    session.execute(insert_if_absent(session, MailboxState, "name").values(name=name,
                                                                          last_uid=0))
    taken = session.execute(update(MailboxState).where(
        MailboxState.name == name,
        or_(MailboxState.locked_until.is_(None), MailboxState.locked_until < now))
        .values(locked_until=now + LEASE)).rowcount
    session.commit()
    return taken == 1
