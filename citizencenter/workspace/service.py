"""My work, searching, the waiting count and the screen pop: what a guide's pages show.

Every read goes through the case service's access rules (`cases.visible_cases`), so
department staff see their own department's cases only, as in the API.
"""

import contextlib
import functools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, event, false, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, selectinload

from citizencenter.accounts.models import User
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.contacts import service as contacts
from citizencenter.contacts.models import Contact
from citizencenter.db import text_matches, utcnow
from citizencenter.errors import InvalidInput, NotFound
from citizencenter.organisation.models import Category, Queue
from citizencenter.pagination import InvalidCursor, Page, Paginator, following
from citizencenter.routing import assignment
from citizencenter.routing.models import GuideProfile
from citizencenter.sla.enums import TimerStatus
from citizencenter.sla.models import SlaTimer

# A guide's own cases still to work on; department staff also hold forwarded ones.
MINE = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING_ON_CITIZEN)
DEPARTMENT_ACTIVE = (*MINE, CaseStatus.FORWARDED)
FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
# A case without a running clock sorts after every case with one.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)
REFERENCE = re.compile(r"MC-\d{4}-\d{6}", re.IGNORECASE)
MAX_SEARCH = 200
# Matching contacts are listed by id up to this many (the case indexes serve the list);
# beyond it the search asks the database to match them itself.
MAX_LISTED_CONTACTS = 500
SCREEN_POP_OPEN, SCREEN_POP_RECENT = 10, 5
# session.info: per user id, (queue ids, profile) as this transaction read them.
_QUEUES = "workspace_queue_ids"
_PROTECTED = "workspace_protected_contacts"  # session.info: `_protected`, as read
# What a row shows of its related rows, loaded by id after the page (one IN query each):
# the page's own statement stays on `cases` alone.
SHOWN = (selectinload(Case.contact), selectinload(Case.department),
         selectinload(Case.service_point), selectinload(Case.queue).lazyload(Queue.department),
         selectinload(Case.category).lazyload(Category.department),
         selectinload(Case.assignee).lazyload(User.department))
# A worklist row, read as columns in the page's one statement (`WorkCase`, in its order):
# no Case object, and the citizen's name a scalar subquery, evaluated for the page's rows
# only, so the statement stays on `cases` for the planner.
ROW_COLUMNS = (Case.id, Case.reference, Case.subject, Case.channel, Case.status,
               Case.received_at, Case.assignee_id, Case.department_id,
               select(Contact.name).where(Contact.id == Case.contact_id)
               .scalar_subquery().label("contact_name"))
_SHOWN = len(ROW_COLUMNS)
# The row's earliest running clock: what its due time, state and the cursor need.
CLOCK_COLUMNS = (SlaTimer.due_at.label("clock_due_at"), SlaTimer.warn_at.label("clock_warn_at"),
                 SlaTimer.warned_at, SlaTimer.breached_at)
_NO_CLOCK = (None,) * len(CLOCK_COLUMNS)


@dataclass(slots=True)
class WorkCase:
    """What a worklist row shows of its case, read as columns (no Case object per row)."""

    id: uuid.UUID
    reference: str
    subject: str  # as the reader may be shown it (`cases.listing_query`)
    channel: Channel
    status: CaseStatus
    received_at: datetime
    assignee_id: int | None
    department_id: int | None
    contact_name: str | None  # the citizen's name, when known

    @property
    def shown_subject(self) -> str:
        return self.subject


@dataclass
class WorkItem:
    """One row of the worklist: the case and what its timers say now."""

    case: WorkCase
    next_due_at: datetime | None  # the earliest running SLA clock's due time
    sla_state: str | None  # ok, warn, breached; None without a running clock
    age_s: int  # since the case was received
    mine: bool  # assigned to the caller (otherwise waiting in one of their queues)


@dataclass
class ScreenPop:
    """What the guide's screen shows of an answered call."""

    call_id: int
    caller: str  # E.164, or "withheld"
    withheld: bool
    queue: str | None
    answered_at: datetime | None
    case_id: uuid.UUID | None  # the call's own case, once the phone channel linked one
    contact: Contact | None
    # A contact with a protected identity, and the guide lacks the permission: the pop
    # shows "skyddad identitet", never the name, the number or the cases.
    protected: bool = False
    open_cases: list[Case] = field(default_factory=list)
    recent_cases: list[Case] = field(default_factory=list)


def sla_state(timer: SlaTimer, now: datetime) -> str:
    """ok, warn or breached, by the clock's own warning and due times."""
    return _clock_state(timer.due_at, timer.warn_at, timer.warned_at, timer.breached_at, now)


def _clock_state(due_at: datetime, warn_at: datetime, warned_at: datetime | None,
                 breached_at: datetime | None, now: datetime) -> str:
    if breached_at is not None or now >= due_at:
        return "breached"
    if warned_at is not None or now >= warn_at:
        return "warn"
    return "ok"


def _queue_ids(session: Session, actor: Principal) -> list[int]:
    """The queues the guide serves: their profile's, or every centre queue (as routing).

    Read once per transaction: the page's list and its header count ask alike, and the
    profile is held until the transaction ends, so the header's presence (`session.get`)
    finds it in the session instead of reading it again.
    """
    kept = session.info.setdefault(_QUEUES, {})
    if actor.user_id in kept:
        return kept[actor.user_id][0]
    profile = session.get(GuideProfile, actor.user_id) if actor.user_id else None
    if profile is not None and profile.queue_ids:
        queue_ids = list(profile.queue_ids)
    else:
        queue_ids = sorted(assignment.centre_queue_ids(session))
    kept[actor.user_id] = (queue_ids, profile)
    return queue_ids


def _protected(session: Session, actor: Principal) -> frozenset[int] | None:
    """The contacts with a protected identity the caller may not see (none for those with
    the permission), read once per transaction: the list and the count leave out their
    cases by these ids, a plan as good as without them (`contacts.unprotected`)."""
    if actor.sees_protected:
        return None
    if _PROTECTED not in session.info:
        session.info[_PROTECTED] = frozenset(session.scalars(contacts.protected_ids()))
    return session.info[_PROTECTED]


@event.listens_for(Session, "after_transaction_end")
def _forget_queues(session: Session, transaction) -> None:
    if transaction.parent is None:  # the next reads afresh
        session.info.pop(_QUEUES, None)
        session.info.pop(_PROTECTED, None)


def _waiting(session: Session, actor: Principal):
    """Cases nobody has that the caller could take."""
    if actor.is_department_staff:  # visible_cases keeps them to their department
        return and_(Case.assignee_id.is_(None), Case.status.in_(DEPARTMENT_ACTIVE))
    return and_(Case.assignee_id.is_(None), Case.waiting_since.is_not(None),
                Case.status.in_(assignment.WAITING),
                Case.queue_id.in_(_queue_ids(session, actor)),
                confidentiality.takeable(actor))


def _mine(actor: Principal):
    if actor.user_id is None:
        return false()
    statuses = DEPARTMENT_ACTIVE if actor.is_department_staff else MINE
    return and_(Case.assignee_id == actor.user_id, Case.status.in_(statuses))


def worklist(session: Session, actor: Principal, paginator: Paginator, *,
             status: CaseStatus | None = None, channel=None, cursor: str | None = None,
             limit: int | None = None) -> Page:
    """My open cases and my queues' waiting cases, the earliest SLA due time first, then
    the newest; items are `WorkItem`s.

    Read in two parts, so a page costs the same however long the queues grow: the cases
    with a running clock, walked in due order (ix_sla_timers_status_due_at), each once
    with its earliest clock; then, when the page has room, those without one, newest first.
    """
    filters = {name: value for name, value in (("status", status), ("channel", channel))
               if value is not None}
    listing = {"view": "worklist", "actor": actor.actor, **filters}
    limit = min(limit or paginator.default_limit, paginator.max_limit)
    after = _after(paginator, cursor, listing)
    work = cases.listing_query(actor, columns=ROW_COLUMNS,
                               protected=_protected(session, actor), **filters) \
        .where(or_(_mine(actor), _waiting(session, actor)))
    rows: list = []  # (case columns…, clock columns…), the clock's None without one
    if after is None or after[0] < NO_DUE:
        query = work.add_columns(*CLOCK_COLUMNS).join(SlaTimer, and_(
            SlaTimer.case_id == Case.id, SlaTimer.status == TimerStatus.RUNNING)) \
            .where(~_earlier_clock())
        if after is not None:
            query = query.where(following((SlaTimer.due_at, Case.received_at, Case.id),
                                          (False, True, True), after))
        rows += session.execute(query.order_by(
            SlaTimer.due_at, Case.received_at.desc(), Case.id.desc()).limit(limit + 1)).all()
    if len(rows) <= limit:
        query = work.where(~select(SlaTimer.id).where(
            SlaTimer.case_id == Case.id, SlaTimer.status == TimerStatus.RUNNING).exists())
        if after is not None and after[0] == NO_DUE:
            query = query.where(tuple_(Case.received_at, Case.id) < tuple_(*after[1:]))
        rows += [(*row, *_NO_CLOCK) for row in session.execute(query.order_by(
            Case.received_at.desc(), Case.id.desc()).limit(limit + 1 - len(rows)))]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = WorkCase(*rows[-1][:_SHOWN])
        due_at = rows[-1][_SHOWN]
        next_cursor = paginator.encode([(due_at or NO_DUE).isoformat(),
                                        last.received_at.isoformat(), str(last.id)], listing)
    now = utcnow()
    items = []
    for row in rows:
        case, (due_at, warn_at, warned_at, breached_at) = WorkCase(*row[:_SHOWN]), row[_SHOWN:]
        items.append(WorkItem(
            case=case, next_due_at=due_at,
            sla_state=None if due_at is None else _clock_state(
                due_at, warn_at, warned_at, breached_at, now),
            age_s=max(0, int((now - case.received_at).total_seconds())),
            mine=actor.user_id is not None and case.assignee_id == actor.user_id))
    return Page(items, next_cursor)


@functools.cache
def _earlier_clock():
    """Another running clock of the same case due earlier (ties: the lower id counts).
    Built once: the clause is the same for every page, and building it is a tenth of one."""
    other = aliased(SlaTimer)
    return select(other.id).where(
        other.case_id == SlaTimer.case_id, other.status == TimerStatus.RUNNING,
        or_(other.due_at < SlaTimer.due_at,
            and_(other.due_at == SlaTimer.due_at, other.id < SlaTimer.id))).exists()


def _after(paginator: Paginator, cursor: str | None, listing: dict) -> tuple | None:
    if not cursor:
        return None
    key = paginator.decode(cursor, listing)
    try:
        return (datetime.fromisoformat(key[0]), datetime.fromisoformat(key[1]),
                uuid.UUID(key[2]))
    except (TypeError, ValueError, KeyError, IndexError):
        raise InvalidCursor("The cursor is malformed.") from None


def waiting_count(session: Session, actor: Principal) -> int:
    """How many cases wait that the caller could take (the header's live count).

    Exact, read as the page renders: for a guide an index-only count of the waiting cases
    of their queues (ix_cases_waiting_queue), never a walk over every case of the queues.
    """
    return session.scalar(cases.visible_cases(actor, _protected(session, actor))
                          .with_only_columns(func.count())
                          .where(_waiting(session, actor)))


def search(session: Session, actor: Principal, paginator: Paginator, text: str, *,
           cursor: str | None = None, limit: int | None = None) -> Page:
    """Cases by reference, citizen name, phone number, e-mail address or subject text,
    newest first; items are `Case`s."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("q", "Write a reference, a name, a number, an address or words.")
    if len(text) > MAX_SEARCH:
        raise InvalidInput("q", f"At most {MAX_SEARCH} characters.")
    # Subject words find a confidential case only for those who may read it.
    matches = [and_(text_matches(Case.subject, text),
                    confidentiality.content_visible(actor))]
    if REFERENCE.fullmatch(text):
        matches.append(Case.reference == text.upper())
    matches.append(_of_contacts(session, text))
    page = paginator.page(
        session, cases.listing_query(actor).options(*SHOWN).where(or_(*matches)),
        (Case.received_at, Case.id),
        to_key=lambda c: [c.received_at.isoformat(), str(c.id)],
        from_key=lambda k: (datetime.fromisoformat(k[0]), uuid.UUID(k[1])),
        filters={"view": "search", "actor": actor.actor, "q": text}, limit=limit,
        cursor=cursor)
    confidentiality.grant(actor, page.items)
    return page


def _of_contacts(session: Session, text: str):
    """Cases of the contacts whose name holds `text`, or whose address or number it is
    (both normalised as the contacts service stores them)."""
    who = [text_matches(Contact.name, text)]
    if "@" in text:
        who.append(Contact.email == text.lower())
    with contextlib.suppress(ValueError):  # not a phone number
        who.append(Contact.phone == contacts.normalise_phone(text))
    matching = select(Contact.id).where(or_(*who))
    ids = session.scalars(matching.limit(MAX_LISTED_CONTACTS + 1)).all()
    if len(ids) > MAX_LISTED_CONTACTS:
        return Case.contact_id.in_(matching)
    return Case.contact_id.in_(ids) if ids else false()


def screen_pop(session: Session, actor: Principal, call_id: int) -> ScreenPop:
    """The caller of an answered call, their contact and cases (the read is audited).

    Shown to the guide whose agent answered it and to supervisors; anyone else, and a
    call that does not exist, gets 404.
    """
    session.commit()  # the audit row below is the first write of its transaction
    call = session.get(Call, call_id)
    own = actor.user_id is not None and call is not None and call.agent_user_id == actor.user_id
    if call is None or actor.is_department_staff or not (own or actor.has_scope("routing:read")):
        session.rollback()
        raise NotFound("No such call.")
    contact = None
    if call.caller:
        contact = session.scalar(select(Contact).where(Contact.phone == call.caller)
                                 .order_by(Contact.id).limit(1))
    if contacts.is_protected(contact) and not actor.sees_protected:
        pop = ScreenPop(call_id=call.id, caller="", withheld=False, queue=call.queue,
                        answered_at=call.answered_at, case_id=None, contact=None,
                        protected=True)
        audit.record(session, actor.actor, "call.screen_pop", "call", call.id, protected=True)
        session.commit()
        return pop
    pop = ScreenPop(call_id=call.id, caller=call.caller or "withheld",
                    withheld=call.caller is None, queue=call.queue,
                    answered_at=call.answered_at, case_id=call.case_id, contact=contact)
    if contact is not None:
        of_contact = cases.visible_cases(actor).options(*SHOWN) \
            .where(Case.contact_id == contact.id) \
            .order_by(Case.received_at.desc(), Case.id.desc())
        pop.open_cases = list(session.scalars(
            of_contact.where(Case.status.not_in(FINISHED)).limit(SCREEN_POP_OPEN)))
        pop.recent_cases = list(session.scalars(
            of_contact.where(Case.status.in_(FINISHED)).limit(SCREEN_POP_RECENT)))
        confidentiality.grant(actor, pop.open_cases + pop.recent_cases)
    audit.record(session, actor.actor, "call.screen_pop", "call", call.id,
                 cases=sorted(str(c.id) for c in pop.open_cases + pop.recent_cases))
    session.commit()
    return pop
