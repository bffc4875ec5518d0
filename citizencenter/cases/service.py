"""Opening, reading, changing and conversing on cases."""

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from citizencenter import outbox
from citizencenter.accounts.models import Department, Role, User
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.cases import confidentiality, delivery, events, search
from citizencenter.cases.enums import CaseKind, CaseStatus, Channel, Direction, Priority
from citizencenter.cases.models import Case, Message
from citizencenter.cases.references import next_reference
from citizencenter.contacts import service as contacts
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from citizencenter.organisation.models import Category, Queue, ServicePoint
from citizencenter.organisation.service import by_slug
from citizencenter.pagination import Paginator

# A guide's reply on these channels is sent by a worker after commit.
REPLY_TOPICS = {Channel.EMAIL: "email.send_reply", Channel.SOCIAL: "social.reply_added"}
# What department staff may change on a case forwarded to them. Moving a case between
# departments or back to the centre is forwarding's work (forward / send-back endpoints).
DEPARTMENT_FIELDS = frozenset({"status", "priority", "assignee"})
DEPARTMENT_STATUSES = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


def open_case(session: Session, actor: Principal, **fields) -> Case:
    """Open a case for an inbound contact and hand it to routing."""
    case = add_case(session, actor, **fields)
    session.commit()
    return case


def add_case(session: Session, actor: Principal, **fields) -> Case:
    """Add a new case to the caller's transaction (the caller commits)."""
    case = stage_case(session, actor, **fields)
    session.flush()
    return case


def stage_case(session: Session, actor: Principal, *, channel: Channel, subject: str,
               description: str, category: str | None = None,
               priority: Priority = Priority.NORMAL, contact: dict | Contact | None = None,
               received_at: datetime | None = None, channel_metadata: dict | None = None,
               **extra) -> Case:
    """Add a new case to the session without writing it yet, so that a batch of intakes
    is written in one flush. `contact` is a known contact, or what the citizen told us
    to find or register one."""
    if actor.is_department_staff:
        # They work on what the centre forwards to them (DESIGN: nothing else).
        raise Forbidden("Cases are opened by the centre; department staff work on the "
                        "cases forwarded to their department.")
    now = utcnow()
    if received_at is not None and received_at > now:
        raise InvalidInput("received_at", "Lies in the future.")
    received_at = received_at or now
    category_row = by_slug(session, Category, category, "category")
    contact_row = contact if isinstance(contact, Contact) \
        else contacts.find_or_create(session, **(contact or {}))
    # Id and category id set now: SLA policies are matched before anything is flushed.
    case = Case(
        id=uuid.uuid4(), channel=channel, subject=subject, priority=priority,
        category=category_row, category_id=category_row.id if category_row else None,
        contact=contact_row, received_at=received_at,
        **{"kind": CaseKind.INQUIRY, "status": CaseStatus.NEW, **extra},
        reference=next_reference(session, received_at),
    )
    session.add(case)
    if description:
        session.add(Message(case=case, direction=Direction.INBOUND, channel=channel,
                            body=description, channel_metadata=channel_metadata or {},
                            created_at=received_at))
    outbox.enqueue(session, "case.created", {"case_id": str(case.id)})
    events.publish(session, "created", case, actor=actor.actor)
    return case


def visible_cases(actor: Principal, protected: Collection[int] | None = None) -> Select:
    """Department staff see only their department's cases; without one, none. The cases of
    a contact with a protected identity exist only for holders of the protected permission
    (`protected`: those contacts' ids as the caller read them, see `contacts.unprotected`)."""
    query = select(Case)
    if actor.is_department_staff:
        # Never `department_id == None`: that would match every case not forwarded.
        query = query.where(Case.department_id == actor.department_id
                            if actor.department_id is not None else false())
    if not actor.sees_protected:
        query = query.where(contacts.unprotected(Case.contact_id, protected))
    return query


def get_case(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    """Look a case up inside the caller's work; showing it goes through `shown_case`."""
    case = session.scalar(visible_cases(actor).where(Case.id == case_id))
    if case is None:
        raise NotFound("No such case.")  # also for cases the caller may not see
    confidentiality.grant(actor, [case])
    return case


def shown_case(session: Session, actor: Principal, case_id: uuid.UUID, view: str,
               **detail) -> Case:
    """Audit that the caller is shown a case, then look it up (the caller commits).

    Who, when, which case and which view; never what it holds. The audit row is the first
    statement of its transaction, so on SQLite a GET's deferred transaction takes the
    write lock through the busy timeout rather than failing to upgrade an outdated
    snapshot. A case the caller may not see leaves no row.
    """
    session.commit()  # ends the read of authentication (it wrote nothing); no SQL otherwise
    events.publish(session, "viewed", None, actor=actor.actor, case_id=case_id, view=view,
                   **detail)
    session.flush()
    try:
        case = get_case(session, actor, case_id)
        confidentiality.shown(session, actor, case, view, **detail)
    except (NotFound, confidentiality.ConfidentialContent):
        session.rollback()
        raise
    return case


def read_case(session: Session, actor: Principal, case_id: uuid.UUID) -> Case:
    """Show a case to the caller; the read is audited."""
    case = shown_case(session, actor, case_id, "case")
    session.commit()
    return case


def list_cases(session: Session, actor: Principal, paginator: Paginator, *,
               limit: int | None = None, cursor: str | None = None, **filters) -> tuple:
    """Page through cases, newest first; a search (`q`) most relevant first, unless
    `sort` is "newest".

    Not audited row by row (a page is up to 100 subject lines): opening a case is.
    The page holds rows of `LIST_COLUMNS` (what a list item shows), not `Case` objects.
    """
    dialect = session.get_bind().dialect.name
    words = search.query_words(filters["q"]) if "q" in filters else None
    protected = None
    if words and dialect == "postgresql":
        # The protected contacts read first, as a list: the planner then weighs the access
        # clause right (a NOT IN subquery it guesses at half the cases).
        protected = None if actor.sees_protected else \
            session.scalars(contacts.protected_ids()).all()
        search.plan_for_search(session)
    if words is None or filters.get("sort") == "newest":
        # A search in this order is the list narrowed: a guide's queue, through every match.
        page = paginator.page(
            session, listing_query(actor, columns=LIST_COLUMNS, protected=protected,
                                   dialect=dialect, **filters),
            (Case.received_at, Case.id), to_key=_newest_key, from_key=_from_newest_key,
            filters={"actor": actor.actor, **filters}, limit=limit, cursor=cursor,
            as_rows=True)
        if words is None:
            return page
        return search.SearchPage(page.items, page.next_cursor,
                                 search.snippets(session, words, page.items))
    # The most relevant first.
    if dialect == "postgresql":
        query, rank = search.ranked(session, listing_query(
            actor, columns=LIST_COLUMNS, protected=protected,
            **{k: v for k, v in filters.items() if k != "q"})
            .where(confidentiality.content_visible(actor)), words)
    else:
        query = listing_query(actor, columns=LIST_COLUMNS, dialect=dialect, **filters)
        _, rank = search.matching(dialect, words)
    page = paginator.page(
        session, query.add_columns(rank), (rank, Case.received_at, Case.id),
        to_key=lambda c: [c[-1], *_newest_key(c)],
        from_key=lambda k: (float(k[0]), *_from_newest_key(k[1:])),
        filters={"actor": actor.actor, **filters}, limit=limit, cursor=cursor, as_rows=True)
    return search.SearchPage([tuple(row)[:len(LIST_COLUMNS)] for row in page.items],
                             page.next_cursor, search.snippets(session, words, page.items))


def _newest_key(case) -> list:
    return [case.received_at.isoformat(), str(case.id)]


def _from_newest_key(key) -> tuple:
    return datetime.fromisoformat(key[0]), uuid.UUID(key[1])


def _related(column, key, label: str):
    """A related row's column as a scalar subquery: one index lookup for each row of the
    page, evaluated after its filter and limit, and no join for the planner to weigh."""
    return select(column).where(column.class_.id == key).scalar_subquery().label(label)


# A list item's columns, named as `cases.schemas.dump_list_item` reads them: the page is
# one statement without building a Case (and its six relations) per row.
LIST_COLUMNS = (
    Case.id, Case.reference, Case.diarienummer, Case.channel, Case.status, Case.priority,
    Case.subject,
    _related(Category.slug, Case.category_id, "category_slug"),
    _related(Queue.slug, Case.queue_id, "queue_slug"),
    _related(Department.slug, Case.department_id, "department_slug"),
    _related(ServicePoint.slug, Case.service_point_id, "service_point_slug"),
    Case.contact_id,
    _related(Contact.name, Case.contact_id, "contact_name"),
    _related(Contact.email, Case.contact_id, "contact_email"),
    _related(Contact.phone, Case.contact_id, "contact_phone"),
    _related(Contact.protection, Case.contact_id, "contact_protection"),
    Case.assignee_id,
    _related(User.name, Case.assignee_id, "assignee_name"),
    Case.received_at, Case.routed_at, Case.first_response_at, Case.resolved_at,
    Case.closed_at, Case.resolved_at_first_contact, Case.updated_at, Case.version,
    Case.confidential_at, Case.latitude, Case.longitude, Case.address,
)


def listing_query(actor: Principal, *, columns: tuple | None = None,
                  protected: Collection[int] | None = None, dialect: str = "postgresql",
                  **filters) -> Select:
    """The cases `list_cases` pages through, before its keyset bound, order and limit.

    `Case` objects, or only `columns` of them (`list_cases`: `LIST_COLUMNS`, without the
    loader options a Case needs). `dialect`: the database's, for `q`'s full-text clause."""
    # The page's rows come from `cases` alone: queue and department filters are scalar
    # subqueries, and what a row shows is loaded by id afterwards (one IN query per
    # relation). PostgreSQL then walks ix_cases_queue_status_received in order and stops
    # after a page, and plans in a tenth of a millisecond; with the six eager joins (and
    # their departments) it spent over 10 ms planning every page.
    if columns:
        # A confidential case's subject, as the caller may be shown it.
        columns = tuple(confidentiality.shown_subject(actor) if column is Case.subject
                        else column for column in columns)
        query = visible_cases(actor, protected).with_only_columns(*columns)
    else:
        query = visible_cases(actor, protected).options(
            *(selectinload(relation) for relation in (
                Case.contact, Case.department, Case.service_point)),
            # A page shows slugs and names only, not the departments of these.
            selectinload(Case.queue).lazyload(Queue.department),
            selectinload(Case.category).lazyload(Category.department),
            selectinload(Case.assignee).lazyload(User.department))
    for name, column in (("status", Case.status), ("channel", Case.channel),
                         ("assignee", Case.assignee_id)):
        if name in filters:
            query = query.where(column == filters[name])
    if "queue" in filters:
        query = query.where(Case.queue_id == select(Queue.id)
                            .where(Queue.slug == filters["queue"]).scalar_subquery())
    if "department" in filters:
        query = query.where(Case.department_id == select(Department.id)
                            .where(Department.slug == filters["department"]).scalar_subquery())
    if "received_from" in filters:
        query = query.where(Case.received_at >= filters["received_from"])
    if "received_to" in filters:
        query = query.where(Case.received_at < filters["received_to"])
    if "q" in filters:
        # Subject, messages and notes in Swedish (cases.search); a confidential case only
        # for those who may read it, so neither its text nor a snippet reaches the others.
        matches, _ = search.matching(dialect, search.query_words(filters["q"]))
        query = query.where(matches, confidentiality.content_visible(actor))
    if "diarienummer" in filters:
        query = query.where(Case.diarienummer == filters["diarienummer"])
    return query


def _apply_status(case: Case, status: CaseStatus, actor: Principal, session: Session) -> None:
    if status == case.status:
        return
    if not case.can_transition_to(status):
        raise InvalidTransition(f"A case cannot go from {case.status} to {status}.")
    now = utcnow()
    previous = case.status
    if status == CaseStatus.RESOLVED:
        case.resolved_at = now
        outbox.enqueue(session, "case.resolved", {"case_id": str(case.id)})  # feedback
    elif status == CaseStatus.CLOSED:
        case.resolved_at = case.resolved_at or now
        case.closed_at = now
    elif status == CaseStatus.OPEN and previous in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        case.resolved_at = case.closed_at = None
    case.status = status
    events.publish(session, "status_changed", case, actor=actor.actor, previous=previous)


def _assignee(session: Session, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise InvalidInput("assignee", "No active user with this id.")
    return user


def _of_department(user: User | None, department_id: int | None) -> bool:
    return user is not None and user.role == Role.DEPARTMENT \
        and user.department_id == department_id


def _department_may_change(session: Session, case: Case, changes: dict) -> None:
    """Refuse, before anything changes, what department staff may not change on a case."""
    refused = {name: "Department staff cannot change this; send the case back instead."
               for name in changes if name not in DEPARTMENT_FIELDS}
    status = changes.get("status")
    if status is not None and status != case.status and status not in DEPARTMENT_STATUSES:
        refused["status"] = "Department staff resolve or close a case; send-back returns it."
    if "assignee" in changes:
        wanted = changes["assignee"]
        user = session.get(User, wanted) if wanted is not None else None
        if user is not None and not _of_department(user, case.department_id):
            refused["assignee"] = "Only staff of the case's department can be assigned."
        elif wanted is None and case.assignee_id is not None \
                and not _of_department(case.assignee, case.department_id):
            refused["assignee"] = "The case is assigned outside the department."
    if refused:
        names = sorted(refused)
        raise Forbidden(f"Department staff may not change {', '.join(names)}.",
                        errors=[{"field": n, "message": refused[n]} for n in names])


def update_case(session: Session, actor: Principal, case_id: uuid.UUID,
                expected_version: int | None, changes: dict) -> Case:
    """Change a case the caller has seen at `expected_version` (optimistic locking)."""
    if expected_version is None:
        raise PreconditionRequired("Send If-Match with the ETag of the case you read.")
    case = get_case(session, actor, case_id)
    if case.version != expected_version:
        raise PreconditionFailed("The case changed since you read it; fetch it again.")
    try:
        _change_case(session, actor, case, changes)
        session.commit()
    except StaleDataError:  # a worker or another request changed it after our read
        session.rollback()
        raise PreconditionFailed("The case changed while you saved; fetch it again.") from None
    return case


def _change_case(session: Session, actor: Principal, case: Case, changes: dict) -> None:
    """The changes of `update_case`; a flush on the way may find the case changed."""
    if changes.get("status") == CaseStatus.FORWARDED != case.status:
        raise InvalidInput("status", "Forward a case with POST /api/v1/cases/{id}/forward: it "
                           "records the note, starts the department's clock and tells it.")
    if actor.is_department_staff:
        _department_may_change(session, case, changes)
    deciding = sorted(changes.keys() & confidentiality.HANDLING_FIELDS)
    if deciding:
        confidentiality.require_content(actor, case, "changing " + ", ".join(deciding))
    if "category" in changes:
        case.category = by_slug(session, Category, changes["category"], "category")
    if "queue" in changes:
        case.queue = by_slug(session, Queue, changes["queue"], "queue")
    if "assignee" in changes:
        user = _assignee(session, changes["assignee"])
        if user and user.role == Role.DEPARTMENT and user.department != case.department:
            raise InvalidInput("assignee", "Department staff take only their department's cases.")
        previous_assignee, case.assignee = case.assignee_id, user
        case.assignee_id = user.id if user else None  # what subscribers read, before the flush
        if (user.id if user else None) != previous_assignee:
            events.publish(session, "assigned", case, actor=actor.actor,
                           previous=previous_assignee)
    for name in ("subject", "priority", "resolved_at_first_contact", "diarienummer"):
        if name in changes:
            setattr(case, name, changes[name])
    if "status" in changes:
        _apply_status(case, changes["status"], actor, session)
    audit.record(session, actor.actor, "case.updated", "case", case.id,
                 fields=sorted(changes))


def list_messages(session: Session, actor: Principal, case_id: uuid.UUID,
                  paginator: Paginator, limit: int | None = None,
                  cursor: str | None = None) -> tuple:
    """The conversation of a case (notes included), oldest first; the read is audited."""
    case = shown_case(session, actor, case_id, "messages")
    query = select(Message).where(Message.case_id == case.id)
    page = paginator.page(
        session, query, (Message.created_at, Message.id),
        to_key=lambda m: [m.created_at.isoformat(), m.id],
        from_key=lambda k: (datetime.fromisoformat(k[0]), int(k[1])),
        filters={"case": str(case.id)}, limit=limit, cursor=cursor, descending=False)
    delivery.attach(session, page.items)
    session.commit()
    return page


def add_message(session: Session, actor: Principal, case_id: uuid.UUID, *,
                direction: Direction, body: str, channel_metadata: dict | None = None
                ) -> Message:
    """Add to the conversation; the citizen writing again reopens a finished case."""
    message = append_message(session, actor, case_id, direction=direction, body=body,
                             channel_metadata=channel_metadata)
    delivery.attach(session, [message])
    session.commit()
    return message


def append_message(session: Session, actor: Principal, case_id: uuid.UUID, *,
                   direction: Direction, body: str, channel_metadata: dict | None = None
                   ) -> Message:
    """Add a message to the caller's transaction (the caller commits)."""
    case = get_case(session, actor, case_id)
    if direction == Direction.OUTBOUND:
        # No reply written blind to a conversation the writer may not read (a note, such as
        # a guide's record of a call they answered, adds without reading).
        confidentiality.require_content(actor, case, "replying")
    now = utcnow()
    message = Message(case=case, direction=direction, channel=case.channel, body=body,
                      author_id=actor.user_id, channel_metadata=channel_metadata or {},
                      created_at=now)
    session.add(message)
    if direction == Direction.OUTBOUND:
        case.first_response_at = case.first_response_at or now
        if case.status == CaseStatus.NEW:
            _apply_status(case, CaseStatus.OPEN, actor, session)
    elif direction == Direction.INBOUND and case.status in (
            CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.WAITING_ON_CITIZEN):
        _apply_status(case, CaseStatus.OPEN, actor, session)
    session.flush()
    events.publish(session, "message_added", case, actor=actor.actor, message=message)
    if direction == Direction.OUTBOUND and case.channel in REPLY_TOPICS:
        outbox.enqueue(session, REPLY_TOPICS[case.channel], {"message_id": message.id})
    return message
