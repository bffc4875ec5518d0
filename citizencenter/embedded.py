"""The embedded run's process supervision: Redis, web, worker and beat as children that are
restarted when they die and that never outlive the runner."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
BACKOFF_FIRST_S = float(os.environ.get("EMBEDDED_RESTART_BACKOFF_S", 1.0))
BACKOFF_MAX_S = 30.0
# A child that stayed up this long starts again from the shortest backoff when it dies.
STABLE_AFTER_S = 60.0
STOP_TIMEOUT_S = 15.0

_libc = ctypes.CDLL(None, use_errno=True)


def _preexec(parent_pid: int) -> Callable[[], None]:
    """Put the child in a process group of its own and make the kernel send it SIGTERM
    when the runner dies, even by SIGKILL, so no child keeps the port or the broker."""

    def preexec() -> None:
        os.setpgid(0, 0)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the runner died before prctl took effect
            os._exit(1)
    return preexec


def secure_instance(instance: Path, database_url: str | None = None) -> None:
    """Make instance/ 0700 and what it holds (the SQLite file, logs) 0600; the runner's
    umask makes everything its children create private too."""
    os.umask(0o077)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    instance.chmod(0o700)
    logs = instance / "logs"
    logs.mkdir(mode=0o700, exist_ok=True)
    logs.chmod(0o700)
    paths = list(logs.iterdir())
    if database_url and database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        paths += [database.with_name(database.name + suffix) for suffix in ("", "-wal", "-shm")]
    for path in paths:
        if path.is_file():
            path.chmod(0o600)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def public_base_url(host: str, port: int) -> str:
    """Where citizens' links point when PUBLIC_BASE_URL is not given: the bound address."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def redis_command(executable: str, port: int, instance: Path) -> list[str]:
    # The append-only file keeps queued work across a restart of Redis (at most a second
    # lost); the port stays the same so every client's REDIS_URL stays true.
    return [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(instance)]


@dataclass
class Child:
    name: str
    command: list[str]
    # Checked after a (re)start before the next child starts; None means started at once.
    ready: Callable[[], bool] | None = None
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = BACKOFF_FIRST_S
    restart_at: float | None = None
    restarts: int = 0
    log: Path | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None


class Supervisor:
    """Start children, restart a dead one with a doubling backoff, stop them all."""

    def __init__(self, env: dict, cwd: Path, logs: Path, echo: Callable[[str], None] = print):
        self.env, self.cwd, self.logs, self.echo = env, cwd, logs, echo
        self.children: list[Child] = []
        self.stopping = False

    def note(self, message: str) -> None:
        line = f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}"
        self.echo(line)
        with open(self.logs / "run.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def add(self, child: Child) -> Child:
        child.log = self.logs / f"{child.name}.log"
        self.children.append(child)
        self._start(child)
        return child

    def _start(self, child: Child) -> None:
        with open(child.log, "ab") as log:
            child.popen = subprocess.Popen(
                child.command, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_preexec(os.getpid()))
        child.started_at, child.restart_at = time.monotonic(), None
        if child.ready is not None and not child.ready():
            self.note(f"{child.name} (pid {child.pid}) is not ready yet; see {child.log}")

    def check(self) -> None:
        """Notice dead children and restart those whose backoff has passed."""
        now = time.monotonic()
        for child in self.children:
            if self.stopping:
                return
            if child.restart_at is None and child.popen.poll() is not None:
                _signal_group(child.popen.pid, signal.SIGTERM)  # what it left behind
                if now - child.started_at >= STABLE_AFTER_S:
                    child.backoff = BACKOFF_FIRST_S
                delay, child.backoff = child.backoff, min(child.backoff * 2, BACKOFF_MAX_S)
                child.restart_at = now + delay
                self.note(f"{child.name} (pid {child.popen.pid}) exited with "
                          f"{_exit_text(child.popen.returncode)}; restarting in {delay:g} s")
            elif child.restart_at is not None and now >= child.restart_at:
                _signal_group(child.popen.pid, signal.SIGKILL)
                old = child.popen.pid
                child.restarts += 1
                self._start(child)
                self.note(f"{child.name} restarted (pid {child.pid}, was {old})")

    def run_until_stopped(self, poll_s: float = 0.5) -> None:
        while not self.stopping:
            self.check()
            time.sleep(poll_s)

    def stop(self, *_) -> None:
        self.stopping = True

    def stop_all(self, last: tuple[str, ...] = ("redis",)) -> None:
        """Stop every child; those named in `last` (Redis) after the ones using them."""
        self.stopping = True
        first = [c for c in self.children if c.name not in last]
        for group in (first, [c for c in self.children if c.name in last]):
            for child in group:
                if child.popen.poll() is None:
                    child.popen.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            for child in group:
                try:
                    child.popen.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.popen.kill()
                    child.popen.wait()
                _signal_group(child.popen.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        return f"signal {signal.Signals(-returncode).name}"
    return f"code {returncode}"


def wait_for_health(url: str, supervisor: Supervisor, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not supervisor.stopping:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        supervisor.check()
        time.sleep(0.3)
    return False
