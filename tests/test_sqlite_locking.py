"""On SQLite a GET reads while another connection holds the write lock; a POST waits for it.

Always on a SQLite file of its own, served by a real gunicorn with threads (as the
embedded run serves it), whatever TEST_DATABASE_URL says.
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from sqlalchemy.orm import Session

from citizencenter import demo
from citizencenter.accounts import service as accounts
from citizencenter.cli import upgrade_database
from citizencenter.db import make_engine
from tests.conftest import ROOT, TEST_SECRET_KEY, _free_port, wait_for_port
from tests.factories import bearer, case_payload


@pytest.fixture
def sqlite_server(tmp_path, redis_server):
    path = tmp_path / "locking.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        demo.seed(session)
        _, token = accounts.create_token(session, "locking test", role="admin")
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_server.url,
           "SECRET_KEY": TEST_SECRET_KEY, "CITIZENCENTER_INSTANCE": str(tmp_path)}
    with open(tmp_path / "web.log", "wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--threads", "4", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30)
        yield f"http://127.0.0.1:{port}/api/v1", token, path
    finally:
        web.terminate()
        web.wait(15)


def _call(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, float]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **bearer(token), "Content-Type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=20) as response:
        response.read()
        return response.status, time.monotonic() - started


def test_reads_do_not_wait_for_a_writer_and_writes_do(sqlite_server):
    base, token, path = sqlite_server
    assert _call("POST", f"{base}/cases", token, case_payload())[0] == 201

    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long write: a rollup refresh, a purge
    writer.execute("UPDATE departments SET name = name")
    try:
        status, elapsed = _call("GET", f"{base}/cases", token)
        assert status == 200 and elapsed < 2, elapsed

        posted = {}
        post = threading.Thread(target=lambda: posted.update(
            result=_call("POST", f"{base}/cases", token, case_payload())))
        post.start()
        time.sleep(1.5)
        assert post.is_alive()  # waiting for the lock, not failed
    finally:
        writer.execute("COMMIT")
        writer.close()
    post.join(20)
    status, elapsed = posted["result"]
    assert status == 201 and elapsed >= 1.5
