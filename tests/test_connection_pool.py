"""The pool pings a PostgreSQL connection before use only when it sat idle (`db.make_engine`)."""

import time

import psutil
import pytest
import sqlalchemy as sa
from sqlalchemy import make_url, text

from citizencenter import db
from citizencenter.db import make_engine


@pytest.fixture
def pool(database_url):
    """A one-connection pool on the suite's database, and the pings it sends."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    pings = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(time.monotonic())
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted
    yield engine, pings
    engine.dispose()


def backend(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def end_session(database_url, pid: int) -> None:
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()


def test_a_connection_used_again_at_once_is_not_pinged(pool, database_url):
    if database_url.startswith("sqlite"):
        engine, _ = pool
        assert not engine.pool.dispatch.checkout, "an SQLite file has no server to lose"
        return
    engine, pings = pool
    first = backend(engine)
    for _ in range(20):
        assert backend(engine) == first
    assert pings == []


def test_an_idle_connection_whose_server_session_ended_is_replaced_unnoticed(
        pool, database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        return  # no server (see above)
    engine, pings = pool
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.2)
    first = backend(engine)
    end_session(database_url, first)  # as a server restart or an idle timeout would
    time.sleep(0.3)
    second = backend(engine)  # no error: the ping found the connection gone
    assert second != first
    assert len(pings) == 1
    assert backend(engine) == second and len(pings) == 1  # the new one, reused at once


def test_the_price_a_connection_lost_within_the_idle_window_fails_one_use(
        pool, database_url):
    """What skipping the ping costs: one failed use, after which the pool has recovered."""
    if database_url.startswith("sqlite"):
        return  # no server (see above)
    engine, pings = pool
    first = backend(engine)
    end_session(database_url, first)
    with pytest.raises(sa.exc.OperationalError) as failure:
        backend(engine)
    assert failure.value.connection_invalidated
    assert backend(engine) != first
    assert pings == []


def test_a_request_on_a_lost_connection_answers_503_and_the_next_one_succeeds(
        app, engine, committed, database_url):
    if database_url.startswith("sqlite"):
        return  # no server (see above)
    from citizencenter.accounts import service as accounts

    _, token = accounts.create_token(committed, "pool test", role="admin")
    committed.commit()
    committed.close()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/queues", headers=headers).status_code == 200
    # Every server session of this process (the app's pool), as a restart would end them.
    ports = {c.laddr.port for c in psutil.Process().net_connections("tcp")
             if c.raddr and c.raddr.port == make_url(database_url).port}
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ended = conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE client_port = ANY(:ports) AND pid <> pg_backend_pid()"),
            {"ports": list(ports)}).scalars().all()
    admin.dispose()
    assert ended and all(ended)

    lost = client.get("/api/v1/queues", headers=headers)
    assert lost.status_code == 503, lost.get_data(as_text=True)
    assert lost.mimetype == "application/problem+json"
    assert lost.headers["Retry-After"] == "1"
    assert lost.get_json()["type"].endswith("/database-connection-lost")
    assert client.get("/api/v1/queues", headers=headers).status_code == 200
