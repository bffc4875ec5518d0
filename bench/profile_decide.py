"""Profile routing/decide in-process: SQL statements and CPU time per POST /api/v1/routing/decide.

Runs the real app (Flask test client) against PostgreSQL and a private Redis, with the
demo data, `--guides` available guides with PBX agents and phone capacity, and some of
the callers' earlier cases assigned (so the sticky lookup finds a guide for some calls).
Prints statements per request, CPU ms per request (p50/p99, time.process_time) and the
top cumulative functions of a cProfile run.

    .venv/bin/python bench/profile_decide.py [--requests 300] [--top 25|0] [--show-sql]

The database (default citizencenter_profile on the local cluster) is emptied and
migrated first.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profile_intake import DEFAULT_URL, ensure_database, percentile, start_redis  # noqa: E402

from citizencenter import create_app, db  # noqa: E402

CALLERS = 50  # distinct numbers; every fifth has an open case with a guide


def prepare(session, guides: int) -> None:
    from citizencenter.accounts import service as accounts
    from citizencenter.cases.enums import Channel
    from citizencenter.cases.models import Case
    from citizencenter.channels.phone.models import PbxAgent
    from citizencenter.contacts.models import Contact
    from citizencenter.db import utcnow
    from citizencenter.routing import presence
    from citizencenter.routing.models import Presence

    ids = []
    for n in range(guides):
        user = accounts.create_user(session, f"guide{n}@profile.example", f"Guide {n}", "guide")
        profile = presence.ensure_profile(session, user.id)
        profile.skills = presence.join_skills({"languages": ["sv"],
                                               "channels": ["email", "phone"]})
        profile.capacities = {"email": 10, "phone": 1}
        profile.presence, profile.idle_since = Presence.AVAILABLE, utcnow()
        session.add(PbxAgent(agent_id=f"PROFILE/{n}", user_id=user.id))
        ids.append(user.id)
    session.flush()
    for n in range(0, CALLERS, 5):
        contact = Contact(phone=f"+4646100{n:03d}")
        session.add(contact)
        session.flush()
        session.add(Case(reference=f"PRF-{n:06d}", channel=Channel.EMAIL,
                         subject="Tidigare ärende", contact_id=contact.id,
                         assignee_id=ids[n % len(ids)]))
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--guides", type=int, default=25)
    parser.add_argument("--database-url", default=os.environ.get("PROFILE_DATABASE_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--top", type=int, default=25,
                        help="functions of the cProfile run to print (0: no profile run)")
    parser.add_argument("--output", help="write the figures as JSON to this file")
    parser.add_argument("--show-sql", action="store_true",
                        help="print the statements of one request first")
    args = parser.parse_args()

    ensure_database(args.database_url)
    workdir = tempfile.mkdtemp(prefix="profile-decide-")
    redis_process, redis_url = start_redis(workdir)
    try:
        app = create_app({"DATABASE_URL": args.database_url, "REDIS_URL": redis_url,
                          "SECRET_KEY": "profile-only-key-0123456789abcdefghijklmnopqrstuvwxyz",
                          "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
        from citizencenter import demo
        from citizencenter.accounts import service as accounts
        with app.app_context():
            demo.seed(db.session)
            prepare(db.session, args.guides)
            _, token = accounts.create_token(db.session, "profile pbx", role="admin")
            db.session.remove()
        client = app.test_client()
        engine = app.extensions["engine"]
        statements, shown, calls = [0], [], [0]

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, *_args):
            statements[0] += 1
            shown.append(" ".join(statement.split())[:150])

        def post() -> None:
            calls[0] += 1
            response = client.post("/api/v1/routing/decide", json={
                "caller": f"+4646100{calls[0] % CALLERS:03d}", "queue": "kontaktcenter"},
                headers={"Authorization": f"Bearer {token}"})
            if response.status_code != 200:
                raise SystemExit(f"POST answered {response.status_code}: {response.data!r}")

        for _ in range(args.warmup):
            post()
        if args.show_sql:
            shown.clear()
            post()
            print("\n".join(f"{n:3d} {line}" for n, line in enumerate(shown, 1)))
        per_request, cpu_ms = [], []
        for _ in range(args.requests):
            statements[0] = 0
            started = time.process_time()
            post()
            cpu_ms.append((time.process_time() - started) * 1000)
            per_request.append(statements[0])
        shown.clear()
        out = io.StringIO()
        if args.top:  # --top 0: the figures only
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                post()
            profiler.disable()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
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
        engine.dispose()
    finally:
        redis_process.terminate()
        redis_process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
