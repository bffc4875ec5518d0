"""Reference data kept per process, checked against one version row per transaction.

Users, tokens, departments, queues, categories, service points, SLA policies and
calendars, routing rules and queue policies change a few times a week and are read by
every request or routing batch. Each process keeps what it read of them, valid while the
`reference_version` row holds the version it was read under. Any change to those tables
through the ORM (unit of work or bulk statement) writes a new random version in the same
transaction (`_note_changes` below), so:

- the new version is visible to every process exactly when the change is: a request
  that starts after the commit reads it and drops what its process kept; none can see
  the change yet still hold the old version;
- a rolled-back change leaves the old version, and the random version it wrote is never
  written again (a counter would be: a rollback returns it to a value another change then
  reuses, while a process still holds what the rolled-back transaction read under it);
- it costs one indexed single-row read per transaction, instead of the reads it saves.

A Redis counter bumped after commit would leave a window between the commit and the
bump, and a crash in between would leave the old value for good; the row cannot.
SQL run by hand on those tables must write a new version too:
`UPDATE reference_version SET version = 'by-hand-<anything new>'`.
A transaction that changes reference data reads it from the database until it ends.
"""

import copy
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, String, event, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import make_transient_to_detached

from citizencenter.db import Base

# Tables whose rows are kept: a change to any of them changes the version.
REFERENCE_TABLES = frozenset({
    "users", "api_tokens", "departments", "queues", "categories", "channel_default_queues",
    "service_points", "sla_policies", "sla_calendars", "sla_calendar_versions",
    "routing_rules", "routing_rule_versions", "queue_policies"})
MAX_ENTRIES = 10_000  # per process; beyond it, lookups go to the database
_VERSION = "reference_version"  # session.info: the version this transaction read
_WRITTEN = "reference_written"  # session.info: this transaction changed reference data


class ReferenceVersion(Base):
    """One row: the version of the reference data; a new random value on every change."""

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32))


class _Store:
    """What one process keeps of one database's reference data under one version."""

    def __init__(self, version: str):
        self.version = version
        self.entries: dict[Any, Any] = {}


# Per engine: two apps of one process on two databases keep apart.
_stores: "weakref.WeakKeyDictionary[Engine, _Store]" = weakref.WeakKeyDictionary()


def new_version() -> str:
    return uuid.uuid4().hex


_READ_VERSION = select(ReferenceVersion.version)


def current_version(session: Session) -> str | None:
    """The reference data's version as this transaction sees it (read once per transaction)."""
    version = session.info.get(_VERSION)
    if version is None:
        # On the session's connection, without the ORM's execution (a third of the CPU of
        # a read every request makes): nothing here needs a flush or loads an object.
        version = session.info[_VERSION] = session.connection().execute(
            _READ_VERSION).scalar()
    return version


def _changing(session: Session) -> bool:
    """Whether this transaction changed, or is about to change, reference data."""
    return session.info.get(_WRITTEN, False) or any(
        _is_reference(obj) for obj in (*session.new, *session.deleted, *session.dirty))


def cached(session: Session, key, load: Callable[[], Any], *, rows: bool = False,
           relations: tuple[str, ...] | None = None):
    """The value `load()` returns, kept in this process while the version stays the same.

    With `rows`, the value is an ORM object, a list of them or None: the process keeps
    detached copies (see `attach`), never an object of a session, with the relations
    they loaded (only those named in `relations`, when given: the others load when used).
    Without, the value is kept as it is and must not be changed by the caller.
    """
    if _changing(session):
        return load()
    version = current_version(session)
    if version is None:  # no version row: nothing can be trusted to stay valid
        return load()
    engine = session.get_bind().engine
    store = _stores.get(engine)
    if store is None or store.version != version:
        store = _stores[engine] = _Store(version)
    try:
        return store.entries[key]
    except KeyError:
        pass
    value = load()
    if rows:
        value = [_detached(row, {}, relations) for row in value] if isinstance(value, list) \
            else _detached(value, {}, relations)
    # None (an unknown token or slug) is not kept: made-up keys must not fill the store.
    if value is not None and len(store.entries) < MAX_ENTRIES and not _changing(session):
        store.entries[key] = value
    return value


def attach(session: Session, row):
    """The session's own object for a row `cached` returned; reads nothing."""
    if row is None:
        return None
    state = inspect(row)
    if state.session is session:
        return row
    # Already in the session (matched earlier in this transaction): that one, as it is.
    return session.identity_map.get(state.key) or session.merge(row, load=False)


def _detached(row, memo: dict, relations: tuple[str, ...] | None = None):
    """A detached copy of a loaded row and of the related rows it loaded, as if fresh."""
    if row is None:
        return None
    if id(row) in memo:
        return memo[id(row)]
    state = inspect(row)
    if state.session is None:  # already a kept copy
        return row
    mapper = state.mapper
    twin = mapper.class_manager.new_instance()
    memo[id(row)] = twin
    loaded = state.dict
    for prop in mapper.column_attrs:
        if prop.key in loaded:  # JSON values are copied: nothing shares them afterwards
            set_committed_value(twin, prop.key, copy.deepcopy(loaded[prop.key]))
    for relation in mapper.relationships:
        if relation.key in loaded and (relations is None or relation.key in relations):
            value = loaded[relation.key]
            set_committed_value(twin, relation.key,
                                [_detached(v, memo) for v in value] if relation.uselist
                                else _detached(value, memo))
    make_transient_to_detached(twin)
    return twin


def _is_reference(obj) -> bool:
    return getattr(type(obj), "__tablename__", None) in REFERENCE_TABLES


def _write_new_version(session: Session) -> None:
    session.info[_WRITTEN] = True
    session.info.pop(_VERSION, None)
    # On the connection: no autoflush, no ORM events, inside the same transaction.
    session.connection().execute(update(ReferenceVersion.__table__)
                                 .values(version=new_version()))


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context, _instances) -> None:
    if any(_is_reference(obj) for obj in (*session.new, *session.deleted)) or any(
            _is_reference(obj) and session.is_modified(obj) for obj in session.dirty):
        _write_new_version(session)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    # Bulk INSERT/UPDATE/DELETE statements skip the unit of work and `_note_changes`.
    table = getattr(state.statement, "table", None)
    if (state.is_insert or state.is_update or state.is_delete) \
            and getattr(table, "name", None) in REFERENCE_TABLES:
        _write_new_version(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost one: the next reads the version afresh
        session.info.pop(_VERSION, None)
        session.info.pop(_WRITTEN, None)
