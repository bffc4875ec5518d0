"""Personal identity numbers on cases: masked as they are stored, found, and revealed.

Every Case subject, contact name and Message body (and the strings of its
channel_metadata) is masked just before it is written, whichever path wrote it (the API,
each channel's intake, the pages, the worker), and the numbers found are kept sealed by
`privacy`. Finding a number's cases and revealing a case's numbers are use cases here,
since they obey the case's access rules; both are audited without the number.
"""

import uuid

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality
from citizencenter.cases import service as cases
from citizencenter.cases.models import Case, Message
from citizencenter.contacts.models import Contact
from citizencenter.errors import Forbidden, InvalidInput
from citizencenter.privacy import detection
from citizencenter.privacy import service as privacy

SEARCH_LIMIT = 200  # the cases of one person; a page with no cursor (a cursor is a URL)
_FOUND = "identity_numbers_found"
_NAMED = "identity_numbers_named"


def mask_on_flush() -> None:
    """Mask every case text before it is written, on every session (once, at app start)."""
    if not event.contains(Session, "before_flush", _mask_pending):
        event.listen(Session, "before_flush", _mask_pending)
        event.listen(Session, "after_flush", _record_found)


def _mask_pending(session: Session, _context, _instances) -> None:
    found = session.info[_FOUND] = []
    named = session.info.setdefault(_NAMED, {})  # numbers of new contacts, for their case
    # Cases first: a new case's new contact is masked with the case, so its number is kept.
    for row in sorted((*session.new, *session.dirty), key=lambda r: not isinstance(r, Case)):
        if isinstance(row, Case):
            found += [(row, None, n) for n in _mask(row, "subject", Case.subject)]
            if row in session.new and row.contact is not None:
                found += [(row, None, n) for n in _mask(row.contact, "name", Contact.name)
                          + named.pop(row.contact, [])]
        elif isinstance(row, Message):
            found += [(row, row, n) for n in _mask(row, "body")]
            metadata = row.channel_metadata
            if _changed(row, "channel_metadata") and privacy.json_holds_number(metadata):
                row.channel_metadata = privacy.mask_json(metadata)
        elif isinstance(row, Contact):
            # Masked now; kept with the case it is registered for (often flushed before it).
            numbers = _mask(row, "name", Contact.name)
            if numbers:
                named[row] = named.get(row, []) + numbers


def _changed(row, name: str) -> bool:
    state = inspect(row)
    return state.pending or state.attrs[name].history.has_changes()


def _mask(row, name: str, column=None) -> list[str]:
    """Mask the attribute `name` of `row` if it is new or changed; the numbers it held."""
    if not _changed(row, name):
        return []
    text, numbers = privacy.mask(getattr(row, name))
    if numbers:
        # A mask may be longer than the number it replaced ("121212-1212"): still fit.
        length = getattr(column.type, "length", None) if column is not None else None
        setattr(row, name, text[:length] if length else text)
    return numbers


def _record_found(session: Session, _context) -> None:
    found = session.info.pop(_FOUND, [])
    if found:
        privacy.record(session.connection(), [
            (row.id if isinstance(row, Case) else row.case_id,
             message.id if message is not None else None, number)
            for row, message, number in found])


def cases_of_number(session: Session, actor: Principal, personnummer: str) -> list:
    """The cases the caller may see where a number was found, newest first (audited)."""
    number = detection.identity_number(personnummer)
    if number is None:
        raise InvalidInput("personnummer", "Not a valid personnummer or samordningsnummer "
                           "(10 or 12 digits, a real date, a valid check digit).")
    query = (cases.listing_query(actor, columns=cases.LIST_COLUMNS)
             .where(Case.id.in_(privacy.case_ids_of(number)),
                    # A number found in a confidential case's content finds it only for
                    # those who may read that content.
                    confidentiality.content_visible(actor))
             .order_by(Case.received_at.desc(), Case.id.desc()).limit(SEARCH_LIMIT))
    rows = session.execute(query).all()
    audit.record(session, actor.actor, "identity_number.searched", "case", "-",
                 cases=[str(row[0]) for row in rows])
    session.commit()
    return rows


def reveal_numbers(session: Session, actor: Principal, case_id: uuid.UUID, *,
                   reason: str) -> list[dict]:
    """Show a signed-in user the numbers found on a case they may see; audited with why."""
    if actor.user_id is None:
        raise Forbidden("Only a signed-in person may reveal a personnummer, with a reason.")
    reason = privacy.mask(reason.strip())[0]
    if not reason:
        raise InvalidInput("reason", "Say why the number is needed.")
    case = cases.shown_case(session, actor, case_id, "identity_numbers")
    numbers = privacy.numbers_of(session, case.id)
    audit.record(session, actor.actor, "identity_number.revealed", "case", case.id,
                 reason=reason, count=len(numbers))
    session.commit()
    return numbers


def mask_stored(session: Session, batch: int = 500) -> dict[str, int]:
    """Mask the numbers in case text stored before masking began; returns what changed.

    Subjects, contact names, message bodies and their metadata, a batch at a time, each
    batch committed; running it again finds nothing more to do.
    """
    changed = {"cases": 0, "contacts": 0, "messages": 0, "numbers": 0}
    for model, attributes in ((Case, ("subject",)), (Contact, ("name",)),
                              (Message, ("body", "channel_metadata"))):
        key, last = model.id, None
        while True:
            query = select(model).order_by(key).limit(batch)
            rows = session.scalars(query if last is None else query.where(key > last)).all()
            if not rows:
                break
            found = []
            for row in rows:
                numbers = _mask_stored_row(row, attributes)
                if numbers is not None:
                    changed[model.__tablename__] += 1
                    if isinstance(row, Case):
                        found += [(row.id, None, n) for n in numbers]
                    elif isinstance(row, Message):
                        found += [(row.case_id, row.id, n) for n in numbers]
            session.flush()
            changed["numbers"] += privacy.record(session.connection(), found)
            session.commit()
            last = rows[-1].id
    return changed


def _mask_stored_row(row, attributes: tuple[str, ...]) -> list[str] | None:
    """Mask a row's text in place; the numbers found, or None when it held none."""
    numbers, touched = [], False
    for name in attributes:
        value = getattr(row, name)
        if isinstance(value, str):
            text, found = privacy.mask(value)
            if found:
                column = getattr(type(row), name)
                length = getattr(column.type, "length", None)
                setattr(row, name, text[:length] if length else text)
                numbers += found
                touched = True
        elif value and privacy.json_holds_number(value):
            setattr(row, name, privacy.mask_json(value))
            touched = True
    return numbers if touched else None
