"""Routing benchmark: intake-to-assignment latency of a burst of cases, and routing/decide.

Starts nothing: point it at a running web server and Celery worker(s) and at their
database and Redis. It adds guides (users on @bench.routing.example, offline again at
the end) with room for the whole burst, posts the burst concurrently, waits until every
case is assigned, and reads each case's assignment time from its routing decisions.
Then it asks `POST /api/v1/routing/decide` as the phone system would.

    DATABASE_URL=… REDIS_URL=… .venv/bin/python bench/routing_bench.py \\
        --base-url http://127.0.0.1:8000 --token "$ADMIN_TOKEN" [--cases 1000]
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GUIDE_DOMAIN = "bench.routing.example"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Client:
    """Keep-alive-free JSON POSTs: each thread its own short connection, like a PBX."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url.rstrip("/"), token

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")


def prepare_guides(app, guides: int, per_guide: int) -> list[int]:
    from sqlalchemy import select

    from citizencenter import db
    from citizencenter.accounts import service as accounts
    from citizencenter.accounts.models import User
    from citizencenter.channels.phone.models import PbxAgent
    from citizencenter.db import utcnow
    from citizencenter.routing import presence
    from citizencenter.routing.models import GuideProfile, Presence

    with app.app_context():
        session = db.session
        session.query(GuideProfile).update({"presence": Presence.OFFLINE})
        session.commit()
        ids = []
        for n in range(guides):
            email = f"guide{n}@{GUIDE_DOMAIN}"
            user = session.scalar(select(User).where(User.email == email)) or \
                accounts.create_user(session, email, f"Bench guide {n}", "guide")
            profile = presence.ensure_profile(session, user.id)
            profile.skills = presence.join_skills({"languages": ["sv", "en"],
                                                   "channels": ["email", "phone"]})
            profile.capacities = {"email": per_guide, "phone": 1}
            profile.presence, profile.idle_since = Presence.AVAILABLE, utcnow()
            if session.get(PbxAgent, f"BENCH/{n}") is None:
                session.add(PbxAgent(agent_id=f"BENCH/{n}", user_id=user.id))
            ids.append(user.id)
        session.commit()
        db.session.remove()
    return ids


def seed_history(app, ids: list[int], per_guide: int) -> int:
    """Give each guide `per_guide` closed phone and e-mail cases, as a year of work leaves
    them, with one set-based INSERT; what counts a guide's open cases must not read these."""
    from sqlalchemy import text

    from citizencenter import db

    if not ids or per_guide <= 0:
        return 0
    with app.app_context():
        seeded = db.session.execute(text(
            "INSERT INTO cases (id, reference, channel, kind, status, priority, subject, "
            "  received_at, routed_at, first_response_at, resolved_at, closed_at, "
            "  resolved_at_first_contact, required_skills, updated_at, version, "
            "  sla_started_at, assignee_id) "
            "SELECT gen_random_uuid(), 'MC-2000-' || lpad(((k - 1) * :per + i)::text, 7, '0'), "
            "  (ARRAY['phone', 'email'])[1 + i % 2], 'inquiry', 'closed', 'normal', "
            "  'Avslutat ärende', received, received, received + interval '1 hour', "
            "  received + interval '1 day', received + interval '8 days', i % 3 = 0, "
            "  '[]', received + interval '8 days', 1, received, guide "
            "FROM unnest(CAST(:guides AS integer[])) WITH ORDINALITY AS u(guide, k), "
            "     generate_series(1, :per) AS i, "
            "     LATERAL (SELECT now() - interval '10 days' - i * interval '1 hour' "
            "              AS received) AS r "
            "ON CONFLICT (reference) DO NOTHING"),
            {"guides": ids, "per": per_guide}).rowcount
        db.session.execute(text("ANALYZE cases"))
        db.session.commit()
        db.session.remove()
    return seeded


def release_guides(app, ids: list[int]) -> None:
    from citizencenter import db
    from citizencenter.cases.enums import CaseStatus
    from citizencenter.cases.models import Case
    from citizencenter.routing.models import GuideProfile, Presence

    with app.app_context():
        db.session.query(Case).filter(Case.assignee_id.in_(ids),
                                      Case.status != CaseStatus.CLOSED).update(
            {"status": CaseStatus.CLOSED}, synchronize_session=False)
        db.session.query(GuideProfile).filter(GuideProfile.user_id.in_(ids)).update(
            {"presence": Presence.OFFLINE}, synchronize_session=False)
        db.session.commit()
        db.session.remove()


def burst(client: Client, count: int, concurrency: int) -> tuple[list[str], float]:
    counter = iter(range(count))
    lock = threading.Lock()

    def post(_):
        with lock:
            n = next(counter)
        status, body = client.post("/api/v1/cases", {
            "channel": "email", "subject": f"Bygglov för altan {n}",
            "description": "Hej, behöver jag bygglov för en altan?",
            "contact": {"email": f"bench{n}.{time.time_ns()}@example.se"}})
        assert status == 201, body
        return body["id"]

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        ids = list(pool.map(post, range(count)))
    return ids, time.monotonic() - started


def assignment_latencies(app, case_ids: list[str], timeout: float) -> list[float]:
    import uuid

    from sqlalchemy import func, select

    from citizencenter import db
    from citizencenter.cases.models import Case
    from citizencenter.routing.models import RoutingDecision

    ids = [uuid.UUID(i) for i in case_ids]
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            done = db.session.scalar(select(func.count()).select_from(Case).where(
                Case.id.in_(ids), Case.assignee_id.is_not(None)))
            db.session.remove()
            if done == len(ids):
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"only {done} of {len(ids)} cases assigned in {timeout}s")
        rows = db.session.execute(
            select(Case.received_at, RoutingDecision.decided_at)
            .join(RoutingDecision, RoutingDecision.case_id == Case.id)
            .where(Case.id.in_(ids), RoutingDecision.kind == "assigned")).all()
        db.session.remove()
    return [(decided - received).total_seconds() * 1000 for received, decided in rows]


def backlog_throughput(app, client: Client, worker_pid: int, count: int, concurrency: int,
                       timeout: float) -> dict:
    """Routing throughput in the worker: cases opened while it is paused, routed at once.

    The worker's process group is stopped (SIGSTOP) while `count` cases are posted, so
    they all wait for it (as after a worker restart); then it is continued and timed
    until the last is assigned. Throughput = cases ÷ (last assignment − continue).
    """
    import signal
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from citizencenter import db
    from citizencenter.cases.models import Case
    from citizencenter.routing.models import RoutingDecision

    os.killpg(worker_pid, signal.SIGSTOP)
    try:
        case_ids, post_s = burst(client, count, concurrency)
    finally:
        resumed = datetime.now(UTC)
        os.killpg(worker_pid, signal.SIGCONT)
    assignment_latencies(app, case_ids, timeout)
    ids = [uuid.UUID(i) for i in case_ids]
    with app.app_context():
        last = db.session.scalar(select(func.max(RoutingDecision.decided_at)).where(
            RoutingDecision.case_id.in_(ids), RoutingDecision.kind == "assigned"))
        routed = db.session.scalar(select(func.count()).select_from(Case).where(
            Case.id.in_(ids), Case.routed_at.is_not(None)))
        db.session.remove()
    drain_s = max((last - resumed).total_seconds(), 1e-3)
    return {"cases": count, "post_seconds": round(post_s, 2), "routed": routed,
            "drain_seconds": round(drain_s, 2), "cases_per_s": round(count / drain_s, 1)}


def decide(client: Client, requests: int, concurrency: int) -> list[float]:
    def ask(n):
        started = time.perf_counter()
        status, body = client.post("/api/v1/routing/decide",
                                   {"caller": f"+46461{n % 100000:05d}", "queue": "kontaktcenter"})
        assert status == 200, body
        return (time.perf_counter() - started) * 1000

    for n in range(20):  # warm the connections and caches
        ask(n)
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(ask, range(requests)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.environ.get("TOKEN"),
                        required="TOKEN" not in os.environ)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--guides", type=int, default=25)
    parser.add_argument("--history", type=int, default=2000,
                        help="closed cases each guide already holds, seeded with SQL "
                             "(default 2000; 0: none)")
    parser.add_argument("--decide-requests", type=int, default=2000)
    parser.add_argument("--decide-concurrency", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--worker-pid", type=int,
                        help="the Celery worker's process group: pause it while --backlog "
                             "cases are posted, then time how fast it routes them all")
    parser.add_argument("--backlog", type=int, default=1000,
                        help="cases for the throughput phase (with --worker-pid; default 1000)")
    parser.add_argument("--output", help="also write the figures here as JSON")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and REDIS_URL) to the server's database")

    from citizencenter import create_app

    app = create_app()
    client = Client(args.base_url, args.token)
    per_guide = min(50, -(-max(args.cases, args.backlog) // args.guides) + 2)
    guides = prepare_guides(app, args.guides, per_guide)
    seed_history(app, guides, args.history)
    throughput = None
    try:
        case_ids, post_s = burst(client, args.cases, args.concurrency)
        latencies = assignment_latencies(app, case_ids, args.timeout)
        if args.worker_pid:
            release_guides(app, guides)  # their burst cases closed: room for the backlog
            prepare_guides(app, args.guides, per_guide)
            throughput = backlog_throughput(app, client, args.worker_pid, args.backlog,
                                            args.concurrency, args.timeout)
        decide_ms = decide(client, args.decide_requests, args.decide_concurrency)
    finally:
        release_guides(app, guides)
    figures = {
        "cases": args.cases, "post_seconds": round(post_s, 2),
        "intake_to_assignment_ms": {"p50": round(percentile(latencies, 50), 1),
                                    "p99": round(percentile(latencies, 99), 1),
                                    "max": round(max(latencies), 1),
                                    "mean": round(statistics.fmean(latencies), 1)},
        "decide_requests": len(decide_ms),
        "decide_ms": {"p50": round(percentile(decide_ms, 50), 2),
                      "p99": round(percentile(decide_ms, 99), 2),
                      "max": round(max(decide_ms), 2)},
        "throughput": throughput,
    }
    print(f"{'figure':<34}{'p50':>10}{'p99':>10}{'max':>10}")
    for name, key in (("intake → assignment (ms)", "intake_to_assignment_ms"),
                      ("routing/decide (ms)", "decide_ms")):
        row = figures[key]
        print(f"{name:<34}{row['p50']:>10}{row['p99']:>10}{row['max']:>10}")
    print(f"{args.cases} cases posted in {post_s:.1f}s with {args.concurrency} clients; "
          f"{args.guides} guides × {per_guide} e-mails, each with {args.history} closed cases")
    if throughput:
        print(f"routing throughput: {throughput['cases']} cases opened while the worker was "
              f"paused, all assigned {throughput['drain_seconds']} s after it continued: "
              f"{throughput['cases_per_s']} cases/s")
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
