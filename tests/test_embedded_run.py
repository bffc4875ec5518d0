"""`citizencenter run` as a user starts it: real Redis, gunicorn and Celery children that
are restarted when they die and that never outlive the runner."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT, _free_port

pytestmark = pytest.mark.worker


class Runner:
    def __init__(self, instance: Path, **env):
        self.port = _free_port()
        self.instance = instance
        self.log = instance.parent / "run.out"
        environment = {k: v for k, v in os.environ.items()
                       if k not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_BASE_URL", "SECRET_KEY",
                                    "EMBEDDED_REDIS_PORT")}
        environment.update(PORT=str(self.port), CITIZENCENTER_INSTANCE=str(instance),
                           PYTHONUNBUFFERED="1", **env)
        self.handle = open(self.log, "wb")  # noqa: SIM115 - lives as long as the process
        self.popen = subprocess.Popen(
            [str(Path(sys.executable).parent / "citizencenter"), "run"], env=environment,
            cwd=ROOT, stdout=self.handle, stderr=subprocess.STDOUT)
        self.process = psutil.Process(self.popen.pid)
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = self._wait_started()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_started(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"export TOKEN=(\S+)", self.output())
            if found and "Ctrl-C stops everything" in self.output():
                return found.group(1)
            if self.popen.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"the run did not start:\n{self.output()[-4000:]}")

    def children(self) -> dict[str, psutil.Process]:
        """The runner's direct children by role."""
        found = {}
        for child in self.process.children():
            try:  # a dead child stays a zombie until the runner notices it
                command = " ".join(child.cmdline())
            except (psutil.ZombieProcess, psutil.NoSuchProcess):
                continue
            role = ("redis" if "redis-server" in command else "web" if "gunicorn" in command
                    else "mail" if "devmail.sink" in command
                    else "beat" if " beat " in command else "worker")
            found[role] = child
        return found

    def descendants(self) -> list[psutil.Process]:
        return self.process.children(recursive=True)

    def request(self, method: str, path: str, body: dict | None = None,
                timeout: float = 10) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    def post_case(self, subject: str) -> str:
        status, _, case = self.request("POST", "/api/v1/cases", {
            "channel": "email", "subject": subject, "description": "Fråga om bygglov.",
            "category": "bygglov"})
        assert status == 201, case
        return case["id"]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(40)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        self.handle.close()


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _gone(processes: list[psutil.Process]) -> bool:
    return not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _routed(runner: Runner, case_id: str):
    status, _, case = runner.request("GET", f"/api/v1/cases/{case_id}")
    return status == 200 and case["routed_at"]


@pytest.fixture
def instance(tmp_path) -> Path:
    return tmp_path / "instance"


def test_dead_worker_and_redis_come_back_while_the_api_answers(instance):
    runner = Runner(instance, EMBEDDED_RESTART_BACKOFF_S="8")  # the checks below fit in it
    try:
        redis_port = int(re.search(r"redis://127\.0\.0\.1:(\d+)/0", runner.output()).group(1))
        first = runner.post_case("Före")
        _wait(lambda: _routed(runner, first), 60, "the first case routed")

        before = runner.children()
        web = before["web"].pid
        before["worker"].send_signal(signal.SIGKILL)
        before["redis"].send_signal(signal.SIGKILL)
        # While Redis is down: health says so, intake still stores (the outbox keeps the
        # work), the live feed that needs Redis answers 503 problem+json.
        status, _, health = runner.request("GET", "/api/v1/health")
        assert (status, health["status"], health["redis"]) == (200, "degraded", "unavailable")
        during = runner.post_case("Under avbrottet")
        status, headers, problem = runner.request("GET", "/api/v1/dashboard/stream")
        assert status == 503 and headers["Content-Type"] == "application/problem+json"
        assert problem["status"] == 503 and headers["Retry-After"]
        assert runner.request("GET", "/api/v1/dashboard/live")[0] == 200

        after = _wait(lambda: (c := runner.children()).keys() == before.keys() and all(
            c[r].pid != before[r].pid for r in ("worker", "redis")) and c, 60,
            "worker and Redis restarted")
        assert after["web"].pid == web
        assert any(c.laddr.port == redis_port for c in after["redis"].net_connections("tcp")
                   if c.status == psutil.CONN_LISTEN)
        _wait(lambda: runner.request("GET", "/api/v1/health")[2]["status"] == "ok", 30,
              "health ok again")
        later = runner.post_case("Efter")
        for case_id in (during, later):
            _wait(lambda case_id=case_id: _routed(runner, case_id), 90, f"case {case_id} routed")
        log = (instance / "logs" / "run.log").read_text()
        assert "worker (pid" in log and "redis (pid" in log and "restarted" in log
        assert "restarting in 8 s" in runner.output()
        assert f"links      {runner.base}" in runner.output()  # PUBLIC_BASE_URL
        assert (instance / "appendonly.aof").exists()
        assert (instance.stat().st_mode & 0o777) == 0o700
        assert (instance / "citizencenter.db").stat().st_mode & 0o777 == 0o600
        assert (instance / "logs" / "web.log").stat().st_mode & 0o777 == 0o600

        everything = runner.descendants()
        runner.popen.send_signal(signal.SIGTERM)
        assert runner.popen.wait(40) == 0
        _wait(lambda: _gone(everything), 10, "every child stopped")
        assert _port_free(runner.port) and _port_free(redis_port)
    finally:
        runner.stop()


def _signed_in(runner: Runner) -> urllib.request.OpenerDirector:
    """A browser-like client signed in as the guide with the password the run printed."""
    # The line of the sign-in block, not any log line that happens to say "guide".
    email, password = re.search(r"^\s+guide\s+(\S+@\S+)\s+(\S+)$", runner.output(),
                                re.MULTILINE).groups()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{runner.base}/login", timeout=10) as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    with opener.open(f"{runner.base}/login", data=form.encode(), timeout=10) as response:
        assert "/login" not in response.url, "the sign-in failed"
    return opener


def test_the_run_keeps_the_mail_it_sends_and_shows_it_at_dev_mail(instance):
    runner = Runner(instance)
    try:
        assert f"mail       {runner.base}/dev/mail" in runner.output()
        assert "mail" in runner.children()
        status, _, receipt = runner.request("POST", "/api/v1/webform/inquiries", {
            "category": "bygglov", "subject": "Plank mot gatan", "message": "Behövs bygglov?",
            "name": "Karin Ek", "email": "karin.run@example.se"})
        assert status == 201, receipt
        [kept] = _wait(lambda: list((instance / "mail").glob("*.eml")), 90,
                       "the acknowledgement kept under instance/mail/")
        assert "karin.run@example.se" in kept.read_text(errors="replace")
        assert kept.stat().st_mode & 0o777 == 0o600

        opener = _signed_in(runner)
        with opener.open(f"{runner.base}/dev/mail", timeout=10) as response:
            listing = response.read().decode()
        assert "karin.run@example.se" in listing and "Plank mot gatan" in listing
        with opener.open(f"{runner.base}/dev/mail/{kept.name}", timeout=10) as response:
            assert receipt["reference"] in response.read().decode()
    finally:
        runner.stop()


def _open_stream(runner: Runner) -> tuple[http.client.HTTPConnection, int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", runner.port, timeout=10)
    connection.request("GET", "/api/v1/dashboard/stream",
                       headers={"Authorization": f"Bearer {runner.token}"})
    response = connection.getresponse()
    headers = dict(response.headers)
    if response.status != 200:
        response.read()
    return connection, response.status, headers


def test_streams_leave_threads_for_the_api_and_a_killed_runner_takes_its_children(instance):
    runner = Runner(instance)
    try:
        # Two web processes with two stream slots each: of six streams at least two are
        # refused, and the API keeps answering while the others stay open.
        streams = [_open_stream(runner) for _ in range(6)]
        statuses = [status for _, status, _ in streams]
        assert statuses.count(200) <= 4 and statuses.count(503) >= 2, statuses
        for _, status, headers in streams:
            if status == 503:
                assert headers["Content-Type"] == "application/problem+json"
                assert headers["Retry-After"]
        for path in ("/api/v1/health", "/api/v1/cases"):
            started = time.monotonic()
            assert runner.request("GET", path, timeout=5)[0] == 200
            assert time.monotonic() - started < 2
        for connection, _, _ in streams:
            connection.close()

        everything = runner.descendants()
        assert len(everything) >= 4
        runner.popen.send_signal(signal.SIGKILL)
        runner.popen.wait(10)
        _wait(lambda: _gone(everything), 20, "the children of a killed runner stopped")
        assert _port_free(runner.port)
    finally:
        runner.stop()
        for process in psutil.process_iter(["environ"]):
            # Nothing of this run may be left, whatever failed above.
            with_instance = (process.info["environ"] or {}).get("CITIZENCENTER_INSTANCE")
            if with_instance == str(instance):
                process.kill()


def test_a_stream_slot_is_given_back_when_the_client_closes(app, client, tokens):
    app.config["DASHBOARD_STREAM_SLOTS"] = 1
    app.extensions.pop("dashboard_stream_slots", None)
    headers = {"Authorization": f"Bearer {tokens['supervisor']}"}
    try:
        first = client.get("/api/v1/dashboard/stream", headers=headers, buffered=False)
        assert first.status_code == 200
        refused = client.get("/api/v1/dashboard/stream", headers=headers)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert refused.mimetype == "application/problem+json"
        assert client.get("/api/v1/dashboard/live", headers=headers).status_code == 200
        first.close()
        again = client.get("/api/v1/dashboard/stream", headers=headers, buffered=False)
        assert again.status_code == 200
        again.close()
    finally:
        app.config["DASHBOARD_STREAM_SLOTS"] = 2
        app.extensions.pop("dashboard_stream_slots", None)


def test_the_instance_of_a_new_run_is_private(tmp_path):
    from citizencenter.embedded import secure_instance

    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "citizencenter.db").write_bytes(b"")
    (instance / "citizencenter.db").chmod(0o644)
    umask = os.umask(0o022)
    try:
        secure_instance(instance, f"sqlite:///{instance / 'citizencenter.db'}")
    finally:
        os.umask(umask)
    assert instance.stat().st_mode & 0o777 == 0o700
    assert (instance / "logs").stat().st_mode & 0o777 == 0o700
    assert (instance / "citizencenter.db").stat().st_mode & 0o777 == 0o600


def test_a_new_sqlite_database_is_private(tmp_path):
    from citizencenter.cli import upgrade_database

    database = tmp_path / "instance" / "citizencenter.db"
    umask = os.umask(0o022)
    try:
        upgrade_database(f"sqlite:///{database}")
    finally:
        os.umask(umask)
    assert database.parent.stat().st_mode & 0o777 == 0o700
    assert database.stat().st_mode & 0o777 == 0o600
