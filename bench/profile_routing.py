"""Profile the worker's routing of new cases in-process: batches, statements, CPU per case.

Opens `--cases` e-mail cases through the case service (as intake does: no timers, no
route) on an emptied PostgreSQL database with the demo data and `--guides` available
guides with room for them all, then runs `routing.service.route_pending` as the worker
does and prints cases/s (wall), SQL statements per batch, CPU ms per case
(time.process_time) and the top cumulative functions of a cProfile run over a second
burst of the same size. Wall-clock figures move with the machine's load; CPU time and
statement counts do not.

    .venv/bin/python bench/profile_routing.py [--cases 1000] [--batch 200] [--guides 25]
        [--top 25|0] [--database-url URL] [--output FILE]

The database (default citizencenter_profile on the local cluster) is emptied and
migrated first.
"""

import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profile_intake import arguments, profiled_app  # noqa: E402

from citizencenter import db  # noqa: E402

BODY = "Hej, behöver jag bygglov för en altan på 20 kvadratmeter?"


def add_guides(session, guides: int, capacity: int) -> None:
    from citizencenter.accounts import service as accounts
    from citizencenter.db import utcnow
    from citizencenter.routing import presence
    from citizencenter.routing.models import Presence

    for n in range(guides):
        user = accounts.create_user(session, f"router{n}@profile.example", f"Router {n}",
                                    "guide")
        profile = presence.ensure_profile(session, user.id)
        profile.skills = presence.join_skills({"languages": ["sv"], "channels": ["email"]})
        profile.capacities = {"email": capacity}
        profile.presence, profile.idle_since = Presence.AVAILABLE, utcnow()
    session.commit()


def open_cases(session, count: int, round_: int) -> None:
    from citizencenter.accounts.service import SYSTEM
    from citizencenter.cases import service as cases
    from citizencenter.cases.enums import Channel

    for n in range(count):
        # Every tenth citizen writes again: the sticky lookup finds their guide.
        who = n % (count // 10 or 1) if n % 10 == 0 else n
        cases.open_case(session, SYSTEM, channel=Channel.EMAIL,
                        subject=f"Bygglov för altan {n}", description=BODY,
                        contact={"email": f"router{round_}.{who}@example.se"})


def route(session, engine, batch: int) -> dict:
    """Route every waiting case; figures per batch (a batch is one commit)."""
    from citizencenter.routing import service as routing

    statements, batches = [0], []
    mark = {"cpu": time.process_time(), "statements": 0}

    def count(*_args):
        statements[0] += 1

    def committed(_session):
        cpu = time.process_time()
        batches.append({"statements": statements[0] - mark["statements"],
                        "cpu_s": cpu - mark["cpu"]})
        mark.update(cpu=cpu, statements=statements[0])

    event.listen(engine, "before_cursor_execute", count)
    event.listen(session, "after_commit", committed)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    try:
        routed = routing.route_pending(session, batch_size=batch)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(session, "after_commit", committed)
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    full = [b for b in batches if b["statements"] > 1]  # the last commit found nothing
    return {"cases": routed, "batches": len(full), "batch_size": batch,
            "cases_per_s": round(routed / wall, 1) if wall else None,
            "statements_per_batch": round(sum(b["statements"] for b in full)
                                          / max(1, len(full)), 1),
            "statements_max": max((b["statements"] for b in full), default=0),
            "cpu_ms_per_case": round(cpu * 1000 / max(1, routed), 3),
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--guides", type=int, default=25)
    args = parser.parse_args()
    with profiled_app(args, "profile-routing-") as app, app.app_context():
        session, engine = db.session, app.extensions["engine"]
        from citizencenter.routing import service as routing

        routing.route_pending(session)  # the demo's cases
        add_guides(session, args.guides, capacity=2 * args.cases // args.guides + 10)
        open_cases(session, args.cases, 0)
        figures = route(session, engine, args.batch)
        if figures["cases"] != args.cases:
            raise SystemExit(f"routed {figures['cases']} of {args.cases} cases")
        out = io.StringIO()
        if args.top:
            open_cases(session, args.cases, 1)
            profiler = cProfile.Profile()
            profiler.enable()
            routing.route_pending(session, batch_size=args.batch)
            profiler.disable()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        db.session.remove()
    print(out.getvalue())
    for name in ("cases", "batches", "batch_size", "cases_per_s", "statements_per_batch",
                 "statements_max", "cpu_ms_per_case", "wall_s", "cpu_s"):
        print(f"{name.replace('_', ' '):<24}{figures[name]}")
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
