"""Profile "Mina ärenden" (`GET /`) in-process: SQL statements, CPU and wall time per render.

Runs the real app (Flask test client, signed in through the sign-in form as the demo guide)
against a PostgreSQL database holding the page benchmark's cases and a private Redis.
Prepare the database once (a migrated, demo-seeded database), then let this script add
the cases as `bench/run.py --only pages` does (`--seed 100000`: the listing benchmark's
bulk SQL, then `pages.shape_work`):

    DATABASE_URL=URL .venv/bin/citizencenter db upgrade && … citizencenter seed-demo
    .venv/bin/python bench/profile_pages.py --database-url URL --seed 100000
    .venv/bin/python bench/profile_pages.py --database-url URL [--requests 200] [--top 30]

Variants, alternated round by round in one run so a busy machine weighs on each alike:
`before` reads as the page did before (the header's waiting count walking every waiting
case of the guide's queues row by row, the guide's profile and the centre's queues read
again for the count, the header's presence its own statement); `after` is the app as it
is (an index-only count on ix_cases_waiting_queue, the queues read once per transaction, the
presence found in the session). Both read the rows as columns with the citizen's name in
the same statement, the signed-in user and the centre's queues from `reference_cache`.

Prints statements per render, CPU ms (time.process_time) p50/p99, wall ms p50/p99, the
mean time spent waiting on PostgreSQL, the statements of one render with their times
(`--statements`) and a cProfile of the last variant (`--top`).
"""

import argparse
import cProfile
import io
import pstats
import re
import resource
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import GUIDE_EMAIL  # noqa: E402
from services import Stack, start_redis  # noqa: E402

from citizencenter import create_app, db  # noqa: E402
from citizencenter.routing import presence as presence_service  # noqa: E402
from citizencenter.workspace import service as workspace  # noqa: E402

CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def queue_ids_before(session, actor):
    """The guide's queues as they were read: anew by each caller (list and header)."""
    from citizencenter.routing import assignment
    from citizencenter.routing.models import GuideProfile

    profile = session.get(GuideProfile, actor.user_id) if actor.user_id else None
    if profile is not None and profile.queue_ids:
        return list(profile.queue_ids)
    return sorted(assignment.centre_queue_ids(session))


def waiting_count_before(session, actor):
    """The header's count as it was planned before ix_cases_waiting_queue: `coalesce` keeps
    the planner off that index (its predicate is not proven), so the count walks the
    waiting cases through ix_cases_waiting_since and reads each row, as it did."""
    from sqlalchemy import and_, func

    from citizencenter.cases import service as cases
    from citizencenter.cases.models import Case
    from citizencenter.routing import assignment
    if actor.is_department_staff:
        return after["waiting_count"](session, actor)
    return session.scalar(cases.visible_cases(actor).with_only_columns(func.count()).where(
        and_(func.coalesce(Case.assignee_id, 0) == 0, Case.waiting_since.is_not(None),
             Case.status.in_(assignment.WAITING),
             Case.queue_id.in_(workspace._queue_ids(session, actor)))))


def presence_of_before(session, user_id):
    """The header's presence as it was read: its own statement."""
    from sqlalchemy import select

    from citizencenter.routing.models import GuideProfile, Presence
    found = session.scalar(select(GuideProfile.presence).where(GuideProfile.user_id == user_id))
    return found or Presence.OFFLINE


# The app as it is, put back after each `before` round.
after = {"waiting_count": workspace.waiting_count, "_queue_ids": workspace._queue_ids,
         "presence_of": presence_service.presence_of}
before = {"waiting_count": waiting_count_before, "_queue_ids": queue_ids_before,
          "presence_of": presence_of_before}


def use(variant: dict) -> None:
    workspace.waiting_count = variant["waiting_count"]
    workspace._queue_ids = variant["_queue_ids"]
    presence_service.presence_of = variant["presence_of"]


def seed(database_url: str, cases: int) -> None:
    import listing
    import pages
    from services import connect

    engine = connect(database_url)
    print(f"seeding {cases} cases …", flush=True)
    print(listing.seed(engine, cases), flush=True)
    print(pages.shape_work(engine), flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=0, help="add this many cases first")
    parser.add_argument("--requests", type=int, default=200, help="renders per variant")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the variants")
    parser.add_argument("--variants", default="before,after")
    parser.add_argument("--statements", action="store_true",
                        help="print the statements of one render per variant")
    parser.add_argument("--top", type=int, default=0, help="print a cProfile of the last variant")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (default cumulative)")
    parser.add_argument("--callees", help="also print what functions matching this call")
    args = parser.parse_args()
    if args.seed:
        seed(args.database_url, args.seed)

    stack = Stack(Path(tempfile.mkdtemp(prefix="profile-pages-")))
    redis_url = start_redis(stack)
    try:
        app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": redis_url,
                          "SECRET_KEY": "profile-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
                          "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                          "SESSION_COOKIE_SECURE": False})
        from citizencenter.accounts import passwords
        password = secrets.token_urlsafe(16)
        with app.app_context():
            passwords.set_password(db.session, GUIDE_EMAIL, password)
            db.session.commit()
            db.session.remove()
        engine = app.extensions["engine"]
        client = app.test_client()
        token = CSRF_FIELD.search(client.get("/login").text).group(1)
        signed_in = client.post("/login", data={"email": GUIDE_EMAIL, "password": password,
                                                "csrf_token": token})
        if signed_in.status_code not in (302, 303):
            raise SystemExit(f"sign-in answered {signed_in.status_code}")

        statements: list[tuple[str, float]] = []
        started_at = [0.0]

        @event.listens_for(engine, "before_cursor_execute")
        def _before(_conn, _cursor, statement, *_args):
            started_at[0] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_conn, _cursor, statement, *_args):
            statements.append((statement, time.perf_counter() - started_at[0]))

        def get() -> None:
            response = client.get("/")
            if response.status_code != 200 or "Mina ärenden" not in response.text:
                raise SystemExit(f"GET / answered {response.status_code}")

        variants = args.variants.split(",")
        results = {v: {"counts": [], "cpu": [], "wall": [], "db": []} for v in variants}
        for variant in variants:  # warm up each, and show one render's statements
            use(before if variant == "before" else after)
            for _ in range(20):
                get()
            statements.clear()
            get()
            if args.statements:
                print(f"-- {variant}: {len(statements)} statements")
                for sql, seconds in statements:
                    print(f"{seconds * 1000:8.2f} ms  {' '.join(sql.split())[:150]}")
        for _round in range(args.rounds):
            for variant in variants:
                use(before if variant == "before" else after)
                result = results[variant]
                for _ in range(max(1, args.requests // args.rounds)):
                    statements.clear()
                    cpu, wall = time.process_time(), time.perf_counter()
                    get()
                    result["cpu"].append((time.process_time() - cpu) * 1000)
                    result["wall"].append((time.perf_counter() - wall) * 1000)
                    result["counts"].append(len(statements))
                    result["db"].append(sum(s for _, s in statements) * 1000)
        print(f"{'variant':<8}{'stmts':>7}{'CPU p50':>9}{'CPU p99':>9}{'wall p50':>10}"
              f"{'wall p99':>10}{'DB mean':>9}   (ms per render)")
        for variant, result in results.items():
            print(f"{variant:<8}{statistics.mean(result['counts']):>7.1f}"
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
                get()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
            stats.print_stats(args.top)
            if args.callees:
                stats.print_callees(args.callees)
            print(out.getvalue())
        engine.dispose()
    finally:
        use(after)
        stack.stop_all()


if __name__ == "__main__":
    main()
