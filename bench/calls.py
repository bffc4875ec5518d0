"""The call-event ingestion benchmark, run inside the harness's production stack.

Loads `POST /api/v1/integrations/calls/events` with signed requests from the Python
client in callclient.py (batched, then one event per request), and after each load
times how long the worker takes until every stored event is applied to call state.
The ingestion answer only means "stored"; the processed rate is what the phone
statistics and the callback cases actually wait for.
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlsplit

from callclient import EVENTS_PATH, CallLoad, CallLoadResult, run_load
from services import Child, HarnessError, RssSampler, Stack, cpu_snapshot, create_integration
from sqlalchemy import text
from sqlalchemy.engine import Engine

TARGET_ACCEPTED_PER_S = 5_000.0
TARGET_PROCESSED_PER_S = 2_000.0
MB = 1024 * 1024
# Requests prepared per second of the window, all threads together: above what this
# machine reaches, so the measured window rarely has to build a body itself.
POOL_REQ_PER_S = {"batched": 40, "single": 3_000}
POLL_S = 0.25  # the unapplied count scans call_events; polling faster costs server CPU
STALL_S = 60.0
BUSY_MACHINE_CORES = 0.25  # CPU taken by others above which the table warns


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("call ingestion (--only calls)")
    group.add_argument("--calls-duration", type=float, default=10.0,
                       help="seconds of measured load per mode (default 10)")
    group.add_argument("--calls-requests", type=int, default=None,
                       help="send this many requests per mode instead of a fixed duration")
    group.add_argument("--calls-warmup", type=float, default=2.0,
                       help="seconds of unmeasured batched load first (default 2; 0: none)")
    group.add_argument("--calls-processes", type=int, default=2,
                       help="client processes sharing the --concurrency connections "
                            "(default 2)")
    group.add_argument("--batch-size", type=int, default=500,
                       help="events per request in the batched mode (default 500, the "
                            "endpoint's maximum)")
    group.add_argument("--apply-timeout", type=float, default=300.0,
                       help="seconds to wait for the worker to apply every event "
                            "(default 300)")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.calls_duration < 1 or args.calls_processes < 1:
        parser.error("--calls-duration and --calls-processes must be at least 1")
    if args.calls_requests is not None and args.calls_requests < args.concurrency:
        parser.error("--calls-requests must be at least --concurrency")
    if not 1 <= args.batch_size <= 500:
        parser.error("--batch-size must be between 1 and 500")


def _say(message: str) -> None:
    print(f"bench: {message}", flush=True)


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


UNAPPLIED_SQL = "SELECT count(*) FROM call_events WHERE applied_at IS NULL"
APPLIED_SQL = "SELECT count(*) FROM call_events WHERE applied_at IS NOT NULL"
# Answered and missed calls open cases (a task after the call state), which the same
# worker then routes: the backlog is the cases not routed plus the ones not opened yet.
UNROUTED_SQL = """
    SELECT (SELECT count(*) FROM cases WHERE routed_at IS NULL)
         + (SELECT count(*) FROM calls WHERE outcome = 'answered' AND case_id IS NULL)"""
ROUTED_SQL = "SELECT count(*) FROM cases WHERE routed_at IS NOT NULL"


def unapplied(engine: Engine) -> int:
    return _count(engine, UNAPPLIED_SQL)


def wait_drained(engine: Engine, stack: Stack, sql: str, done_sql: str, timeout_s: float
                 ) -> tuple[int, float]:
    """Wait until the count `sql` selects is 0; return (left, monotonic time it happened).

    Gives up early when nothing got done (the count `done_sql` selects did not grow)
    for STALL_S: failing tasks would otherwise hold the run for the whole timeout. The
    backlog itself may grow meanwhile, as cases are opened while others are routed.
    """
    started = time.monotonic()
    left, done = _count(engine, sql), _count(engine, done_sql)
    progressed = started
    while left and time.monotonic() - started < timeout_s \
            and time.monotonic() - progressed < STALL_S:
        stack.check_alive()
        time.sleep(POLL_S)
        left, now_done = _count(engine, sql), _count(engine, done_sql)
        if now_done > done:
            done, progressed = now_done, time.monotonic()
    return left, time.monotonic()


class CallsBench:
    """Both modes against one app, with the figures and problems they produced."""

    def __init__(self, args: argparse.Namespace, stack: Stack, engine: Engine,
                 env: dict[str, str], app_base: str, app_child: Child,
                 problems: list[str]):
        self.args, self.stack, self.engine, self.app_child = args, stack, engine, app_child
        self.problems = problems
        url = urlsplit(app_base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.cpu_roots = {"app": app_child.process.pid, **{
            child.name: child.process.pid for child in stack.children
            if child.name in ("celery-worker", "celery-beat", "redis")}}
        self.database = engine.url.database or ""
        self.token, self.secret = create_integration(env)

    def load(self, batch: int, duration_s: float, requests: int | None) -> CallLoadResult:
        mode = "batched" if batch > 1 else "single"
        pool = requests or max(self.args.concurrency,
                               round(POOL_REQ_PER_S[mode] * duration_s))
        try:
            return run_load(CallLoad(
                host=self.host, port=self.port, token=self.token, secret=self.secret,
                batch=batch, concurrency=self.args.concurrency,
                processes=self.args.calls_processes, duration_s=duration_s,
                requests=requests, pool_requests=pool))
        except RuntimeError as exc:
            raise HarnessError(str(exc)) from exc

    def problem(self, message: str) -> None:
        self.problems.append(f"calls: {message}")
        _say(f"warning: {self.problems[-1]}")

    def warm_up(self) -> None:
        seconds = self.args.calls_warmup
        if seconds <= 0:
            return
        _say(f"calls: warm-up ({seconds:g} s batched) …")
        result = self.load(self.args.batch_size, seconds, None)
        if result.errors:
            self.problem(f"the warm-up saw {result.errors} errors: {result.error_samples}")
        left, _ = wait_drained(self.engine, self.stack, UNAPPLIED_SQL, APPLIED_SQL,
                               self.args.apply_timeout)
        if left:
            self.problem(f"{left} warm-up events were never applied; see "
                         "bench/results/logs/calls/celery-worker.log")
        self.settle_routing("warm-up")

    def settle_routing(self, mode: str) -> float | None:
        """Wait until the cases the calls opened are routed, so the next load starts on
        an idle worker; returns when that happened (time.monotonic), None if never."""
        left, done_at = wait_drained(self.engine, self.stack, UNROUTED_SQL, ROUTED_SQL,
                                     self.args.apply_timeout)
        if left:
            self.problem(f"{mode}: {left} cases for calls were never opened or routed; see "
                         "bench/results/logs/calls/celery-worker.log")
            return None
        return done_at

    @staticmethod
    def cores(before: dict[str, float], after: dict[str, float],
              result: CallLoadResult) -> dict[str, float]:
        """Cores each part kept busy on average over the load; `other` is everything else
        on the machine (other users of the shared cores skew the figures)."""
        if not result.wall_s:
            return {}
        used = {name: (after[name] - before[name]) for name in before}
        used["client"] = result.client_cpu_s
        machine = used.pop("machine")
        used["other"] = max(0.0, machine - sum(used.values()))
        return {name: round(seconds / result.wall_s, 2) for name, seconds in used.items()}

    def measure(self, mode: str, batch: int) -> dict:
        """Load one mode, then time the worker until every event is applied."""
        args = self.args
        events_before = _count(self.engine, "SELECT count(*) FROM call_events")
        backlog_before = unapplied(self.engine)
        what = (f"{args.calls_requests} requests" if args.calls_requests
                else f"{args.calls_duration:g} s")
        _say(f"calls: {mode} ({batch} event{'s' if batch > 1 else ''}/request, {what}, "
             f"{args.concurrency} connections) …")
        cpu_before = cpu_snapshot(self.cpu_roots, self.database)
        with RssSampler(self.app_child.process.pid) as rss:
            self.stack.check_alive()
            result = self.load(batch, args.calls_duration, args.calls_requests)
        cpu_after = cpu_snapshot(self.cpu_roots, self.database)
        self.stack.check_alive()
        cores = self.cores(cpu_before, cpu_after, result)
        backlog_at_end = unapplied(self.engine)
        _say(f"  {result.accepted_per_s:.0f} events/s accepted, {result.rps:.1f} req/s, "
             f"p99 {result.p99_ms:.1f} ms, {result.errors} errors; "
             f"{backlog_at_end} events waiting to be applied …")
        left, done_at = wait_drained(self.engine, self.stack, UNAPPLIED_SQL, APPLIED_SQL,
                                     args.apply_timeout)
        routed_at = self.settle_routing(mode)
        stored = _count(self.engine, "SELECT count(*) FROM call_events") - events_before
        processed_s = done_at - result.start_at if left == 0 else None
        if result.errors:
            self.problem(f"{mode}: {result.errors} requests failed (statuses "
                         f"{result.statuses}, {result.socket_errors} socket errors): "
                         f"{result.error_samples}; see bench/results/logs/calls/app.log")
        if stored != result.accepted:
            self.problem(f"{mode}: the database holds {stored} new events, the answers "
                         f"accepted {result.accepted}")
        if left:
            self.problem(f"{mode}: {left} events still unapplied "
                         f"{done_at - result.start_at:.0f} s after the load began (the "
                         "backlog stopped shrinking or --apply-timeout passed); see "
                         "bench/results/logs/calls/celery-worker.log")
        if result.made_during_load:
            _say(f"  note: the client built {result.made_during_load} requests during the "
                 "load (its prepared pool ran out)")
        return {
            **result.as_dict(), "peak_rss_mb": round(rss.peak / MB, 1),
            "cpu_cores_during_load": cores,
            "processing": {
                "unapplied_before": backlog_before, "events_stored": stored,
                "unapplied_at_load_end": backlog_at_end, "unapplied_left": left,
                "all_applied_after_s": None if processed_s is None else round(processed_s, 2),
                "processed_events_per_s": (round(stored / processed_s, 1)
                                           if processed_s else None),
                "cases_routed_after_s": (None if routed_at is None or left
                                         else round(routed_at - result.start_at, 2))},
        }

    def run(self) -> dict:
        args = self.args
        cases_before = _count(self.engine, "SELECT count(*) FROM cases")
        self.warm_up()
        modes = {"batched": self.measure("batched", args.batch_size),
                 "single": self.measure("single", 1)}
        with self.engine.connect() as conn:
            outcomes = dict(conn.execute(text(
                "SELECT outcome, count(*) FROM calls GROUP BY outcome ORDER BY outcome")).all())
        batched = modes["batched"]
        processed = batched["processing"]["processed_events_per_s"]
        return {
            "endpoint": EVENTS_PATH,
            "settings": {"duration_s": None if args.calls_requests else args.calls_duration,
                         "requests_per_mode": args.calls_requests,
                         "warmup_s": args.calls_warmup, "concurrency": args.concurrency,
                         "client_processes": min(args.calls_processes, args.concurrency),
                         "batch_size": args.batch_size},
            "modes": modes,
            "calls_rows": sum(outcomes.values()),
            "call_outcomes": outcomes,
            "cases_opened": _count(self.engine, "SELECT count(*) FROM cases") - cases_before,
            "goals": {
                "accepted_min_events_per_s": TARGET_ACCEPTED_PER_S,
                "processed_min_events_per_s": TARGET_PROCESSED_PER_S,
                "accepted_met": batched["accepted_events_per_s"] >= TARGET_ACCEPTED_PER_S,
                "processed_met": processed is not None and processed >= TARGET_PROCESSED_PER_S,
            },
        }


def run_calls(args: argparse.Namespace, stack: Stack, engine: Engine, env: dict[str, str],
              app_base: str, app_child: Child, problems: list[str]) -> dict:
    """The `calls` section of the report."""
    return CallsBench(args, stack, engine, env, app_base, app_child, problems).run()


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(section: dict) -> list[str]:
    """The second table: ingestion per mode, then processing and the targets."""
    s = section["settings"]
    window = (f"{s['requests_per_mode']} requests" if s["requests_per_mode"]
              else f"{s['duration_s']:g} s")
    rows = [f"call events: POST {section['endpoint']}, {s['concurrency']} connections, "
            f"{window} per mode",
            f"{'mode':<13}{'req/s':>9}{'accepted ev/s':>15}{'processed ev/s':>16}"
            f"{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'peak RSS MB':>13}"]
    for key, mode in section["modes"].items():
        label = f"batched x{mode['events_per_request']}" if key == "batched" else "single"
        rows.append(f"{label:<13}{mode['req_per_s']:>9.1f}{mode['accepted_events_per_s']:>15.1f}"
                    f"{_num(mode['processing']['processed_events_per_s']):>16}"
                    f"{mode['p50_ms']:>9.1f}{mode['p99_ms']:>9.1f}{mode['errors']:>8}"
                    f"{mode['peak_rss_mb']:>13.1f}")
    for key, mode in section["modes"].items():
        p = mode["processing"]
        if p["all_applied_after_s"] is not None:
            rows.append(f"{key}: all {p['events_stored']} events applied "
                        f"{p['all_applied_after_s']:.1f} s after the load began "
                        f"(load {mode['wall_s']:.1f} s, {p['unapplied_at_load_end']} waiting "
                        f"when it ended; the cases they opened routed after "
                        f"{_num(p['cases_routed_after_s'])} s)")
        else:
            rows.append(f"{key}: {p['unapplied_left']} of {p['events_stored']} events never "
                        "applied")
    for key, mode in section["modes"].items():
        cores = ", ".join(f"{name} {n:.2f}" for name, n in mode["cpu_cores_during_load"].items())
        rows.append(f"{key}: cores busy during the load: {cores}")
        if mode["cpu_cores_during_load"].get("other", 0) > BUSY_MACHINE_CORES:
            rows.append(f"note: processes outside the benchmark kept "
                        f"{mode['cpu_cores_during_load']['other']:.2f} cores busy during the "
                        f"{key} load; its figures understate this stack")
    outcomes = ", ".join(f"{n} {o}" for o, n in section["call_outcomes"].items())
    rows.append(f"calls rows: {section['calls_rows']} ({outcomes}); cases opened by calls: "
                f"{section['cases_opened']}")
    goals = section["goals"]
    rows.append(f"targets: batched accepted >= {goals['accepted_min_events_per_s']:,.0f} "
                f"events/s ({_met(goals['accepted_met'])}) ; processed >= "
                f"{goals['processed_min_events_per_s']:,.0f} events/s "
                f"({_met(goals['processed_met'])})")
    return rows
