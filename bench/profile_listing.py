"""Profile the case list in-process: SQL statements, CPU and database time per GET.

Runs the real app (Flask test client) against a PostgreSQL database that already holds
the listing benchmark's cases (`bench/listing.py --database-url URL --seed 100000`) and
a private Redis, and GETs a queue's open cases (with and without `q`) as an admin. For
comparison in the same run (`--variants orm,rows`) it also serves the list as it was
before the lean page: `orm` builds a Case (and its relations, one IN query each) per row
and dumps the page with marshmallow's CasePageSchema; `rows` is the app as it is: one
statement of the listed columns and a plain dict per row. Prints statements per
request, CPU ms per request (time.process_time) and the mean time spent waiting on
PostgreSQL.

    .venv/bin/python bench/profile_listing.py --database-url URL [--requests 300] [--top 30]
"""

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from listing import PAGE, SEARCH_TERMS, queue_slugs  # noqa: E402
from services import Stack, start_redis  # noqa: E402

from citizencenter import create_app, db  # noqa: E402
from citizencenter.cases import service as cases_service  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def list_cases_orm(session, actor, paginator, *, limit=None, cursor=None, **filters):
    """The page as it was before: Case objects, their relations loaded by id."""
    import uuid
    from datetime import datetime

    from sqlalchemy.orm import selectinload

    from citizencenter.accounts.models import User
    from citizencenter.cases.models import Case
    from citizencenter.organisation.models import Category, Queue

    query = cases_service.listing_query(actor, **filters).options(
        *(selectinload(relation) for relation in (
            Case.contact, Case.department, Case.service_point)),
        selectinload(Case.queue).lazyload(Queue.department),
        selectinload(Case.category).lazyload(Category.department),
        selectinload(Case.assignee).lazyload(User.department))
    return paginator.page(
        session, query, (Case.received_at, Case.id),
        to_key=lambda c: [c.received_at.isoformat(), str(c.id)],
        from_key=lambda k: (datetime.fromisoformat(k[0]), uuid.UUID(k[1])),
        filters={"actor": actor.actor, **filters}, limit=limit, cursor=cursor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--variants", default="orm,rows")
    parser.add_argument("--top", type=int, default=0, help="print a cProfile of the last variant")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (default cumulative)")
    args = parser.parse_args()

    stack = Stack(Path(tempfile.mkdtemp(prefix="profile-listing-")))
    redis_url = start_redis(stack)
    from citizencenter.cases import views
    from citizencenter.cases.schemas import CasePageSchema

    lean = cases_service.list_cases, views.dump_case_page
    orm = list_cases_orm, CasePageSchema().dump
    try:
        app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": redis_url,
                          "SECRET_KEY": "profile-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
                          "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
        from citizencenter.accounts import service as accounts
        from citizencenter.accounts.models import User
        with app.app_context():
            email = db.session.scalar(select(User.email).where(User.role == "admin"))
            _, token = accounts.create_token(db.session, "profile listing", user_email=email)
            db.session.remove()
        engine = app.extensions["engine"]
        slugs = queue_slugs(engine)
        client = app.test_client()
        statements, db_seconds, started_at = [0], [0.0], [0.0]

        @event.listens_for(engine, "before_cursor_execute")
        def _before(*_args):
            statements[0] += 1
            started_at[0] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(*_args):
            db_seconds[0] += time.perf_counter() - started_at[0]

        def get(n: int, with_q: bool) -> None:
            query = f"queue={slugs[n % len(slugs)]}&status=open&limit={PAGE}"
            if with_q:
                query += f"&q={SEARCH_TERMS[n % len(SEARCH_TERMS)]}"
            response = client.get(f"/api/v1/cases?{query}",
                                  headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise SystemExit(f"GET answered {response.status_code}: {response.data!r}")

        print(f"{'variant':<8}{'query':<8}{'stmts/req':>10}{'CPU ms p50':>12}"
              f"{'CPU ms p99':>12}{'DB ms mean':>12}")
        for variant in args.variants.split(","):
            cases_service.list_cases, views.dump_case_page = orm if variant == "orm" else lean
            for with_q in (False, True):
                for n in range(20):
                    get(n, with_q)
                counts, cpu_ms, db_ms = [], [], []
                for n in range(args.requests):
                    statements[0], db_seconds[0] = 0, 0.0
                    started = time.process_time()
                    get(n, with_q)
                    cpu_ms.append((time.process_time() - started) * 1000)
                    counts.append(statements[0])
                    db_ms.append(db_seconds[0] * 1000)
                print(f"{variant:<8}{'q' if with_q else '-':<8}{statistics.mean(counts):>10.1f}"
                      f"{percentile(cpu_ms, 0.5):>12.2f}{percentile(cpu_ms, 0.99):>12.2f}"
                      f"{statistics.mean(db_ms):>12.2f}", flush=True)
        if args.top:
            profiler = cProfile.Profile()
            profiler.enable()
            for n in range(args.requests):
                get(n, False)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        engine.dispose()
    finally:
        cases_service.list_cases, views.dump_case_page = lean
        stack.stop_all()


if __name__ == "__main__":
    main()
