"""The production shape under honcho: gunicorn, two Celery workers, the calls worker and
one beat on the suite's database and a Redis of its own. A case opened over HTTP is
routed; SIGTERM lets a request and a task in flight finish, and every process exits."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import text

from tests.conftest import ROOT, TEST_SECRET_KEY, RedisServer, _free_port

pytestmark = pytest.mark.worker
INQUIRY = "/api/v1/webform/inquiries"
SMTP_DELAY_S = 8  # the acknowledgement's SMTP conversation: in flight across the SIGTERM


class SlowSmtp:
    """A real SMTP server whose first message takes SMTP_DELAY_S to accept."""

    def __init__(self):
        self.messages: list[str] = []
        self.in_flight = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.in_flight.is_set():
            self.in_flight.set()
            await asyncio.sleep(SMTP_DELAY_S)
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    sink = SlowSmtp()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own: what is left in it afterwards is this run's alone."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _wait(condition, timeout: float, what: str, output=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}\n{output()[-6000:]}")


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _inquiry(subject: str) -> bytes:
    return json.dumps({"category": "felanmalan", "subject": subject, "email": "per@example.se",
                       "message": "Lampan på Bytaregatan 4 lyser inte.", "name": "Per Holm"},
                      ensure_ascii=False).encode()


def _post(base: str, body: bytes) -> dict:
    request = urllib.request.Request(base + INQUIRY, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.load(response)


def _routing_runs(base: str) -> float:
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        text_ = response.read().decode()
    return sum(float(line.rpartition(" ")[2]) for line in text_.splitlines()
               if line.startswith("citizencenter_celery_tasks_total{")
               and 'task="routing.route_case"' in line and 'outcome="success"' in line)


def _routed(engine, reference: str) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT routed_at IS NOT NULL FROM cases WHERE reference = :r"),
            {"r": reference}).scalar())


def _every_process_line_is_json(output: str) -> None:
    """honcho prefixes each line with its time and process ("12:00:00 web.1 | …"); its
    own lines are the `system` ones."""
    for line in output.splitlines():
        prefix, bar, rest = line.partition(" | ")
        if bar and not prefix.rstrip().endswith("system") and rest.strip():
            assert isinstance(json.loads(rest), dict), line


def test_the_production_shape_routes_a_case_and_stops_without_losing_work(
        database_url, engine, committed, smtp, own_redis, tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "WORKER_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=own_redis.url, SECRET_KEY=TEST_SECRET_KEY,
               PUBLIC_BASE_URL=base, WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="2",
               WEB_THREADS="4", WORKER_PROCESSES="2", WORKER_CONCURRENCY="2",
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port),
               CITIZENCENTER_INSTANCE=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    command = [str(Path(sys.executable).parent / "citizencenter"), "production", "run"]
    if database_url.startswith("sqlite"):
        command.append("--allow-embedded")  # the same shape on the suite's SQLite file
    log = tmp_path / "honcho.log"
    with open(log, "wb") as out:
        honcho = psutil.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    output = lambda: log.read_text(errors="replace")  # noqa: E731
    try:
        _wait(lambda: _healthy(base), 180, "the web server", output)
        # Two `celery` workers and the `calls` one.
        _wait(lambda: output().count(" ready.") >= 3, 180, "three workers", output)
        lines = [line.split(":")[0] for line in
                 (tmp_path / "instance" / "Procfile").read_text().splitlines()]
        assert lines == ["web", "worker", "calls", "beat"]
        assert "beat.1" in output() and "beat.2" not in output()  # exactly one beat
        # JSON by default in the production run: every process's line is one object.
        _every_process_line_is_json(output())

        # A case opened over HTTP is routed by the workers.
        reference = _post(base, _inquiry("Trasig gatubelysning"))["reference"]
        _wait(lambda: _routed(engine, reference), 120, "the case to be routed", output)
        # /metrics of a web worker adds up the Celery pool's counters (multiprocess mode in
        # instance/metrics): the routing task ran in another process.
        _wait(lambda: _routing_runs(base) >= 1, 60, "routing.route_case in /metrics", output)
        assert list((tmp_path / "instance" / "metrics").glob("counter_*.db"))
        # Its acknowledgement is being sent: the task is in flight in a worker.
        _wait(smtp.in_flight.is_set, 120, "the acknowledgement's SMTP conversation", output)

        # A slow client: headers and half the body sent, the rest after the SIGTERM.
        body = _inquiry("Nedfallen gren")
        slow = socket.create_connection(("127.0.0.1", port), timeout=60)
        slow.sendall(f"POST {INQUIRY} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     f"application/json\r\nContent-Length: {len(body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + body[:20])
        time.sleep(2)  # the web worker has taken the request
        processes = honcho.children(recursive=True)
        assert len(processes) >= 5
        honcho.send_signal(signal.SIGTERM)
        time.sleep(3)
        slow.sendall(body[20:])
        response = b""
        while chunk := slow.recv(65536):
            response += chunk
        slow.close()
        assert response.startswith(b"HTTP/1.1 201"), response[:500]

        # Everything exits (honcho's own limit: the graceful timeout and 10 s).
        honcho.wait(timeout=120)
        gone, alive = psutil.wait_procs(processes, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        for process in [honcho, *_descendants(honcho)]:
            if process.is_running():
                process.kill()

    # The task in flight finished: the acknowledgement went out and nothing is left
    # taken but unacknowledged in the broker (a killed task would wait there).
    assert len(smtp.messages) >= 1 and "per@example.se" in smtp.messages[0], output()[-4000:]
    broker = redis.Redis.from_url(own_redis.url)
    assert broker.hlen("unacked") == 0
    broker.close()
    assert "sending SIGKILL" not in output()


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _names(procfile: str) -> list[str]:
    return [line.split(":")[0] for line in procfile.splitlines() if line.strip()]


def test_the_follower_and_the_imap_poller_run_only_where_configured(app):
    from citizencenter import production

    config = {**app.config, "PUBLIC_BASE_URL": "https://kontaktcenter.lund.example",
              "QUEUE_LOG_FILE": "", "MAILBOXES": "", "IMAP_HOST": ""}
    assert _names(production.procfile(config)) == ["web", "worker", "calls", "beat"]
    config.update(QUEUE_LOG_FILE="/var/log/asterisk/queue_log", IMAP_HOST="imap.lund.example")
    procfile = production.procfile(config)
    assert _names(procfile) == ["web", "worker", "calls", "beat", "follower", "mail"]
    # The follower's token and secret come from its environment, never its command line.
    assert "--url https://kontaktcenter.lund.example/api/v1/integrations/calls/asterisk" \
        in procfile and "--token" not in procfile and "--secret" not in procfile
    # The Procfile at the top of the repository (plain `honcho start`) has the same lines.
    assert _names((ROOT / "Procfile").read_text()) == ["web", "worker", "calls", "beat"]


def test_every_way_of_starting_the_web_process_serves_the_same_app():
    # The served app settles what it loaded out of the collector's reach, and the hooks
    # mark a dead worker's metrics; the Procfile and the systemd unit must not drift.
    from citizencenter import production

    web_line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                    if line.startswith("web:"))
    unit = (ROOT / "deploy" / "systemd" / "citizencenter-web.service").read_text()
    for started in (web_line, unit):
        assert production.WEB_APP in started
        assert f"--config {production.GUNICORN_SETTINGS}" in started
        assert f"--logger-class {production.GUNICORN_LOGGER}" in started
