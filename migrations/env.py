"""Alembic environment: the URL comes from the caller, else from DATABASE_URL."""

import sqlalchemy as sa
from alembic import context

from citizencenter.config import Config
from citizencenter.db import Base, UTCDateTime, load_all, make_engine

load_all()
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Config.DATABASE_URL
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # A batch migration rebuilds a table by DROP and CREATE; with foreign keys on, the
        # DROP deletes every row that points at it through ON DELETE CASCADE (the messages
        # of every case). Off while migrating; checked once at the end instead.
        sa.event.listen(engine, "connect",
                        lambda dbapi_connection, _record: dbapi_connection.execute(
                            "PRAGMA foreign_keys=OFF"))
    with engine.connect() as conn:
        _run(conn)
        if engine.dialect.name == "sqlite":
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            conn.rollback()
            if broken:
                raise RuntimeError(f"the migrations left rows whose foreign keys point at "
                                   f"nothing: {broken[:5]}")
    engine.dispose()


def _render_item(type_, obj, autogen_context):
    # Migrations stay independent of application code: UTCDateTime is a plain column type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa.Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_item=_render_item,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=Config.DATABASE_URL, target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
