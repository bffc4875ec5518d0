"""Declarative base, engine and the scoped session shared by web requests and tasks."""

import importlib
import os
import pkgutil
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import DateTime, Engine, MetaData, create_engine, delete, event, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def str_enum(enum_cls: type[StrEnum], length: int = 24) -> SAEnum:
    """Store a StrEnum as its value in a VARCHAR, loading it back as the enum member."""
    return SAEnum(enum_cls, native_enum=False, length=length, create_constraint=False,
                  values_callable=lambda members: [m.value for m in members])


class AppendOnlyViolation(RuntimeError):
    """A row of an append-only table (audit trail, SLA ledger) was to be changed or removed."""


_append_only_tables: set[str] = set()


def append_only(model):
    """Class decorator: no code path may change or delete the model's rows, one by one or in
    bulk. (PostgreSQL enforces the same with a trigger; SQLite relies on this alone.)"""
    def refuse(_mapper, _connection, row) -> None:
        raise AppendOnlyViolation(f"{model.__tablename__} row {row.id} cannot be changed "
                                  "or deleted.")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
    _append_only_tables.add(model.__tablename__)
    return model


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state) -> None:
    # Bulk UPDATE/DELETE statements skip the mapper events of `append_only`.
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) \
            and getattr(table, "name", None) in _append_only_tables:
        raise AppendOnlyViolation(f"{table.name} rows cannot be changed or deleted.")


def utcnow() -> datetime:
    return datetime.now(UTC)


session = scoped_session(sessionmaker(expire_on_commit=False))


# Set while a request only reads (GET, HEAD): its SQLite transactions begin DEFERRED.
_reading: ContextVar[bool] = ContextVar("citizencenter_reading", default=False)


def init_app(app) -> None:
    """Let read-only requests read on SQLite while a writer holds the lock."""
    from flask import request

    @app.before_request
    def _note_reading():
        _reading.set(request.method in ("GET", "HEAD"))

    @app.teardown_request
    def _forget_reading(_exc):
        _reading.set(False)


def _private_sqlite_file(url: str) -> None:
    # The database holds personal data: owner-only, before SQLite creates it with 0644.
    path = url.removeprefix("sqlite:///").split("?")[0]
    if not url.startswith("sqlite:///") or path in ("", ":memory:") or os.path.exists(path):
        return
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and writer-exclusive transactions."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _make_sqlite_transactions_immediate(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine)
    return engine


# A pooled connection idle for longer than this is pinged before it is used again.
PING_AFTER_IDLE_S = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """A pre-ping only for connections that sat in the pool. Pinging every checkout costs a
    round trip per request; a connection back within a second was alive at its last use.
    The price: when the server restarts under load, a request that takes a connection used
    less than a second before fails once, and that failure makes the pool drop every
    connection opened before it (SQLAlchemy's disconnect handling)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _note_idle_since(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("the pooled connection is gone") from error


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _make_sqlite_transactions_immediate(engine: Engine) -> None:
    # SQLite ignores FOR UPDATE; taking the write lock at BEGIN makes every
    # read-then-write atomic and avoids SQLITE_BUSY on lock upgrade. Reads of a GET
    # begin DEFERRED instead, so a long writer (a rollup refresh) does not stall them.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # SQLite's own lower() folds A-Z only: "Åsa" would not find "åsa" (ILIKE is lower()).
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if _reading.get() else "BEGIN IMMEDIATE")


def text_matches(column, text: str):
    """`column` holds `text`, in any letter case, Å, Ä and Ö included (trigram-indexed on
    PostgreSQL where searched often; SQLite's lower() is Python's, see make_engine)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%") \
        .replace("_", "\\_") + "%"
    return column.ilike(pattern, escape="\\")


PURGE_SLICE = 5000


def delete_in_slices(sess, model, condition, slice_size: int | None = None) -> int:
    """Delete the rows matching `condition`, committing every `slice_size` rows.

    A purge of a week of rows in one statement holds SQLite's write lock (and
    PostgreSQL's row locks) for as long as it runs; slices keep each commit short, and a
    purge cut short is finished by the next run.
    """
    [key] = model.__mapper__.primary_key
    slice_size = slice_size or PURGE_SLICE
    total = 0
    while True:
        chosen = select(key).where(condition).limit(slice_size).scalar_subquery()
        deleted = sess.execute(delete(model).where(key.in_(chosen))).rowcount
        sess.commit()
        total += deleted
        if deleted < slice_size:
            return total


def is_postgresql(sess) -> bool:
    return sess.get_bind().dialect.name == "postgresql"


def insert_if_absent(sess, target, *key: str):
    """INSERT ... ON CONFLICT (key) DO NOTHING on PostgreSQL and SQLite alike.

    Add `.values(...)` and `.returning(...)` as usual: a row that exists already is left
    as it is and returns nothing.
    """
    insert = postgresql.insert if is_postgresql(sess) else sqlite.insert
    return insert(target).on_conflict_do_nothing(index_elements=list(key))


def load_all() -> None:
    """Import every model module so that Base.metadata knows all tables (Alembic, tests)."""
    importlib.import_module("citizencenter.idempotency")
    importlib.import_module("citizencenter.outbox")
    importlib.import_module("citizencenter.reference_cache")
    # The package's path, not `import citizencenter`: the app factory sits above db.
    for module in pkgutil.walk_packages([str(Path(__file__).parent)], "citizencenter."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
