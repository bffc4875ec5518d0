"""Scale out: two web processes (gunicorn) and two Celery workers on one PostgreSQL and one
Redis take a burst of cases posted to both at once; each case is opened once, routed once
(one assignment or one place in a queue), and its SLA timers start once.

On SQLite the same burst goes to the embedded shape, one web process and one worker: SQLite
takes one writer at a time, so the embedded run is not scaled out by design."""

import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests.conftest import TEST_SECRET_KEY, Process, RedisServer, _free_port, wait_for_port

pytestmark = pytest.mark.worker
BURST = 200
GUIDES = ("anna.lindqvist@lund.example", "erik.johansson@lund.example",
          "fatima.hassan@lund.example")
SUBJECT = "Skalningsprov"


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def free_guides(committed):
    """Three demo guides available for e-mail cases (5, 4 and 5 at a time); offline after."""
    from citizencenter.accounts.models import User
    from citizencenter.accounts.service import SYSTEM
    from citizencenter.routing import presence
    from citizencenter.routing.models import GuideProfile, Presence

    ids = list(committed.scalars(select(User.id).where(User.email.in_(GUIDES))))
    assert len(ids) == len(GUIDES)
    for user_id in ids:
        presence.set_presence(committed, SYSTEM, user_id, Presence.AVAILABLE)
    yield ids
    committed.execute(update(GuideProfile).where(GuideProfile.user_id.in_(ids))
                      .values(presence=Presence.OFFLINE))
    committed.commit()


@pytest.fixture
def admin_token(committed):
    from citizencenter.accounts import service as accounts

    token = accounts.create_token(committed, "scale-out burst", role="admin")[1]
    committed.commit()
    return token


def _post(base: str, token: str, key: str, number: int) -> tuple[int, dict]:
    body = json.dumps({"channel": "email", "subject": f"{SUBJECT} {number}",
                       "description": "Fråga om sophämtningen.",
                       "contact": {"email": f"invanare{number}@example.se"}}).encode()
    request = urllib.request.Request(
        base + "/api/v1/cases", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                 "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _open_case(base: str, token: str, key: str, number: int) -> str:
    """Post until the case is there: 409 means the same key is in flight elsewhere."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status, body = _post(base, token, key, number)
        if status == 201:
            return body["id"]
        assert status == 409, (status, body)
        time.sleep(0.5)
    raise AssertionError(f"case {number} never opened")


def _web(env: dict, port: int, workers: int, log: Path) -> Process:
    return Process([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                    "--workers", str(workers), "--threads", "4", "--timeout", "120",
                    "citizencenter:create_app()"], env, log)


def _worker(env: dict, name: str, log: Path) -> Process:
    return Process([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                    "--loglevel", "INFO", "--concurrency", "2", "--hostname", f"{name}@%h",
                    "--without-gossip", "--without-mingle"], env, log)


def _rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql)).all()


def test_a_burst_on_two_web_processes_and_two_workers_is_routed_once_per_case(
        database_url, engine, committed, free_guides, admin_token, own_redis, tmp_path,
        worker_env):
    postgresql = database_url.startswith("postgresql")
    processes = 2 if postgresql else 1
    env = {**worker_env, "REDIS_URL": own_redis.url, "SECRET_KEY": TEST_SECRET_KEY,
           "CITIZENCENTER_INSTANCE": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1"}
    ports = [_free_port() for _ in range(processes)]
    started = [_web(env, port, 2, tmp_path / f"web{n}.log")
               for n, port in enumerate(ports)]
    started += [_worker(env, f"scale{n}", tmp_path / f"worker{n}.log")
                for n in range(processes)]
    output = lambda: "\n".join(p.output()[-3000:] for p in started)  # noqa: E731
    try:
        for port in ports:
            wait_for_port(port, timeout=180)
        for worker in started[processes:]:
            worker.wait_for_output("ready.", timeout=180)
        bases = [f"http://127.0.0.1:{port}" for port in ports]

        # Every case goes to one web process; every tenth key is sent to the other one
        # at the same moment as well, as a client retrying through the load balancer.
        keys = {n: str(uuid.uuid4()) for n in range(BURST)}
        sends = [(bases[n % processes], n) for n in range(BURST)]
        sends += [(bases[(n + 1) % processes], n) for n in range(0, BURST, 10)]
        answers: dict[int, set[str]] = {n: set() for n in range(BURST)}
        lock = threading.Lock()

        def send(item):
            base, number = item
            case_id = _open_case(base, admin_token, keys[number], number)
            with lock:
                answers[number].add(case_id)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(send, sends))
        # The same key always answered with the same case.
        assert all(len(found) == 1 for found in answers.values()), answers
        ids = [found.pop() for found in answers.values()]
        assert len(set(ids)) == BURST

        def unrouted() -> int:
            return _rows(engine, "SELECT count(*) FROM cases WHERE routed_at IS NULL "
                         "AND subject LIKE 'Skalningsprov %'")[0][0]

        deadline = time.monotonic() + 600
        while unrouted() and time.monotonic() < deadline:
            time.sleep(1)
        assert unrouted() == 0, output()
    finally:
        for process in started:
            process.stop()

    # No case lost, none opened twice.
    cases = _rows(engine, "SELECT CAST(id AS VARCHAR), assignee_id, queue_id, waiting_since, "
                  "sla_started_at FROM cases WHERE subject LIKE 'Skalningsprov %'")
    assert sorted(str(uuid.UUID(row[0])) for row in cases) == sorted(ids)
    by_id = {str(uuid.UUID(row[0])): row for row in cases}

    def per_case(sql: str) -> dict[str, int]:
        counts = {case_id: 0 for case_id in ids}
        for case_id, count in _rows(engine, sql):
            key = str(uuid.UUID(str(case_id)))
            if key in counts:
                counts[key] = count
        return counts

    # One routing each: one "routed" decision, one case.routed audit entry.
    routed = per_case("SELECT case_id, count(*) FROM routing_decisions WHERE kind = 'routed' "
                      "GROUP BY case_id")
    assert set(routed.values()) == {1}, routed
    audited = per_case("SELECT entity_id, count(*) FROM audit_entries "
                       "WHERE action = 'case.routed' GROUP BY entity_id")
    assert set(audited.values()) == {1}, audited
    # Then one assignment or one place in a queue.
    assigned = per_case("SELECT case_id, count(*) FROM routing_decisions "
                        "WHERE kind = 'assigned' GROUP BY case_id")
    waiting = per_case("SELECT case_id, count(*) FROM routing_decisions "
                       "WHERE kind = 'waiting' GROUP BY case_id")
    for case_id, (_, assignee, queue, waiting_since, _) in by_id.items():
        if assignee is not None:
            assert (assigned[case_id], waiting[case_id]) == (1, 0), case_id
        else:
            assert (assigned[case_id], waiting[case_id]) == (0, 1), case_id
            assert queue is not None and waiting_since is not None, case_id
    # The guides took cases, never more than the e-mail capacity routing reads (their
    # profiles as the suite left them, not the demo's figures).
    loads = dict(_rows(engine, "SELECT assignee_id, count(*) FROM cases WHERE subject "
                       "LIKE 'Skalningsprov %' AND assignee_id IS NOT NULL "
                       "GROUP BY assignee_id"))
    assert sum(loads.values()) > 0 and set(loads) <= set(free_guides), loads
    capacities = {user_id: json.loads(value) if isinstance(value, str) else value
                  for user_id, value in _rows(engine, "SELECT user_id, capacities FROM "
                                              "guide_profiles")}
    for user_id, count in loads.items():
        assert count <= capacities[user_id].get("email", 0), (user_id, count, capacities)

    # SLA timers started once per case: the same set of policies for each, no duplicates,
    # one "started" ledger entry per timer.
    assert all(row[4] is not None for row in cases)
    duplicates = _rows(engine, "SELECT case_id, policy_id FROM sla_timers GROUP BY case_id, "
                       "policy_id HAVING count(*) > 1")
    assert duplicates == []
    timers = per_case("SELECT case_id, count(*) FROM sla_timers GROUP BY case_id")
    assert len(set(timers.values())) == 1 and min(timers.values()) >= 1, timers
    starts = _rows(engine, "SELECT timer_id, count(*) FROM sla_ledger WHERE event = 'started' "
                   "GROUP BY timer_id HAVING count(*) <> 1")
    assert starts == []
