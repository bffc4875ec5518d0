"""Profile the year's service measurement (`GET /reports`) in-process: SQL statements, CPU
and wall time per render, uncached (as right after a rollup refresh) and from the page cache.

Runs the real app (Flask test client, the demo supervisor signed in through the sign-in
form) against a PostgreSQL database holding the report benchmark's year, rolled up
(`bench/report_bench.py`, or `--seed` here: the schema is dropped, migrated, demo-seeded,
the year generated and rolled up from scratch):

    .venv/bin/python bench/profile_report_page.py --database-url URL --seed [--calls N]
    .venv/bin/python bench/profile_report_page.py --database-url URL [--requests 20]
        [--statements] [--explain] [--top 25]

`uncached` empties the per-process page cache before each render, as a rollup refresh
does; `cached` is the next render of the same page. Prints statements per render, CPU ms
(time.process_time, independent of how busy the machine is) p50/p99, wall ms p50/p99 and
the time spent waiting on PostgreSQL; `--statements` lists one uncached render's
statements with their times, `--explain` runs EXPLAIN ANALYZE on each of them and `--top`
prints a cProfile of the uncached renders.
"""

import argparse
import cProfile
import io
import pstats
import resource
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from profile_pages import CSRF_FIELD, percentile  # noqa: E402
from report_page import SUPERVISOR_EMAIL  # noqa: E402
from services import Stack, start_redis  # noqa: E402

from citizencenter import create_app, db  # noqa: E402
from citizencenter.reports import charts  # noqa: E402


def seed(database_url: str, year: int, calls: int, emails: int) -> None:
    from report_bench import generate, reset_schema

    from citizencenter import demo
    from citizencenter.cli import upgrade_database
    from citizencenter.reports import service as reports

    reset_schema(database_url)
    upgrade_database(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(48),
                      "PUBLIC_BASE_URL": "http://127.0.0.1"})
    with app.app_context():
        demo.seed(db.session)
        print(f"generating {calls} calls and {emails} e-mails over {year} …", flush=True)
        print(generate(db.session, year, calls, emails), flush=True)
        db.session.commit()
        started = time.perf_counter()
        print(reports.refresh_rollups(db.session, app.config, rebuild=True).summary(),
              f"{time.perf_counter() - started:.1f} s", flush=True)
        db.session.commit()
        db.session.remove()
    engine = db.make_engine(database_url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("report_facts", "rollup_cells", "rollup_days", "rollup_hours"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", action="store_true", help="generate and roll up the year first")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=20, help="renders per variant")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()
    if args.seed:
        seed(args.database_url, args.year, args.calls, args.emails)

    stack = Stack(Path(tempfile.mkdtemp(prefix="profile-report-page-")))
    redis_url = start_redis(stack)
    try:
        app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": redis_url,
                          "SECRET_KEY": "profile-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
                          "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                          "SESSION_COOKIE_SECURE": False})
        from citizencenter.accounts import passwords
        password = secrets.token_urlsafe(16)
        with app.app_context():
            passwords.set_password(db.session, SUPERVISOR_EMAIL, password)
            db.session.commit()
            db.session.remove()
        engine = app.extensions["engine"]
        client = app.test_client()
        token = CSRF_FIELD.search(client.get("/login").text).group(1)
        signed_in = client.post("/login", data={"email": SUPERVISOR_EMAIL,
                                                "password": password, "csrf_token": token})
        if signed_in.status_code not in (302, 303):
            raise SystemExit(f"sign-in answered {signed_in.status_code}")
        path = f"/reports?period=year&date={args.year}-06-01"

        statements: list[tuple[str, object, float]] = []
        started_at = [0.0]

        @event.listens_for(engine, "before_cursor_execute")
        def _before(_conn, _cursor, statement, *_args):
            started_at[0] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_conn, _cursor, statement, parameters, *_args):
            statements.append((statement, parameters, time.perf_counter() - started_at[0]))

        def get(cached: bool) -> None:
            if not cached:
                with charts._PAGE_LOCK:
                    charts._PAGE_CACHE.clear()
            response = client.get(path)
            if response.status_code != 200 or response.text.count("<svg") < 5:
                raise SystemExit(f"GET {path} answered {response.status_code} without charts")

        get(False)  # warm up
        statements.clear()
        get(False)
        one_render = list(statements)
        if args.statements or args.explain:
            print(f"-- one uncached render: {len(one_render)} statements")
            for sql, _params, seconds in one_render:
                print(f"{seconds * 1000:8.2f} ms  {' '.join(sql.split())[:160]}")
        if args.explain:
            with engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                for sql, params, seconds in one_render:
                    if seconds < 0.005 or not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    with raw.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                        plan = "\n".join(r[0] for r in cursor.fetchall())
                    print(f"\n-- {seconds * 1000:.1f} ms: {' '.join(sql.split())[:200]}\n{plan}")
                raw.rollback()
        results = {v: {"counts": [], "cpu": [], "wall": [], "db": []}
                   for v in ("uncached", "cached")}
        for _ in range(args.requests):
            for variant in results:
                statements.clear()
                cpu, wall = time.process_time(), time.perf_counter()
                get(variant == "cached")
                result = results[variant]
                result["cpu"].append((time.process_time() - cpu) * 1000)
                result["wall"].append((time.perf_counter() - wall) * 1000)
                result["counts"].append(len(statements))
                result["db"].append(sum(s for *_, s in statements) * 1000)
        print(f"GET {path}, {args.requests} renders each")
        print(f"{'variant':<10}{'stmts':>7}{'CPU p50':>9}{'CPU p99':>9}{'wall p50':>10}"
              f"{'wall p99':>10}{'DB mean':>9}   (ms per render)")
        for variant, result in results.items():
            print(f"{variant:<10}{statistics.mean(result['counts']):>7.1f}"
                  f"{percentile(result['cpu'], 0.5):>9.2f}{percentile(result['cpu'], 0.99):>9.2f}"
                  f"{percentile(result['wall'], 0.5):>10.2f}"
                  f"{percentile(result['wall'], 0.99):>10.2f}"
                  f"{statistics.mean(result['db']):>9.2f}", flush=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MB")
        if args.top:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                get(False)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        engine.dispose()
    finally:
        stack.stop_all()


if __name__ == "__main__":
    main()
