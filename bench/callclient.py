"""A small load client for the signed call-event endpoint.

wrk cannot sign each request with its own HMAC, so this client does it instead: a few
processes with a few threads each, every thread holding one connection with one request
at a time (keep-alive when the server allows it). Bodies and signatures are made before
the clock starts, so the measured window holds little client work; the client still
shares the machine's cores with the server, and its CPU time is reported for that reason.

Standard library only: the client processes start with `spawn` and import nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import math
import multiprocessing
import queue
import random
import resource
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

EVENTS_PATH = "/api/v1/integrations/calls/events"
SOURCE = "bench-pbx"
QUEUE = "kontaktcenter"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The server accepts webhook timestamps within 5 minutes; older prepared ones are re-signed.
RESIGN_AFTER_S = 240
REQUEST_TIMEOUT_S = 60.0
KEEP_ERROR_BODIES = 5

# How calls go, with weights; about four events per call. Each step is an event type.
SCENARIOS: list[tuple[int, tuple[str, ...]]] = [
    (40, ("call.queued", "call.ring_no_answer", "call.answered", "call.ended")),
    (15, ("call.queued", "call.offered", "call.answered", "call.ended")),
    (18, ("call.queued", "call.offered", "call.ring_no_answer", "call.abandoned")),
    (7, ("call.queued", "call.ring_no_answer", "call.ring_no_answer", "call.exited")),
    (12, ("call.queued", "call.answered", "call.transferred", "call.ended")),
    (8, ("call.queued", "callback.requested", "call.exited")),
]
_WEIGHTS = [w for w, _ in SCENARIOS]
_STEPS = [s for _, s in SCENARIOS]


class EventStream:
    """Realistic events of fresh calls; ids are unique to `prefix`, which is unique per run."""

    def __init__(self, prefix: str, seed: str, now: datetime):
        self.prefix, self.rng, self.now = prefix, random.Random(seed), now
        self.calls = self.events = 0
        self._pending: deque[dict[str, Any]] = deque()

    def take(self, n: int) -> list[dict[str, Any]]:
        """The next `n` events; a call's events may span two consecutive takes."""
        while len(self._pending) < n:
            self._pending.extend(self._call())
        return [self._pending.popleft() for _ in range(n)]

    def _call(self) -> list[dict[str, Any]]:
        rng = self.rng
        self.calls += 1
        call_id = f"{self.prefix}-c{self.calls}"
        steps = rng.choices(_STEPS, _WEIGHTS)[0]
        caller = None if rng.random() < 0.1 else f"+4670{rng.randrange(10**7):07d}"
        agent = f"SIP/80{rng.randrange(20):02d}"
        entered = self.now - timedelta(seconds=rng.uniform(120, 3600))
        wait, ring, talk = rng.uniform(3, 240), rng.uniform(5, 20), rng.uniform(30, 600)
        at = {"call.queued": 0.0, "call.offered": 1.0, "call.ring_no_answer": wait * 0.6,
              "call.answered": wait, "call.abandoned": wait, "call.exited": wait,
              "callback.requested": wait * 0.5, "call.transferred": wait + talk * 0.5,
              "call.ended": wait + talk}
        metrics: dict[str, dict[str, Any]] = {
            "call.ring_no_answer": {"ring_s": round(ring, 1)},
            "call.answered": {"wait_s": round(wait, 1), "ring_s": round(ring, 1)},
            "call.abandoned": {"wait_s": round(wait, 1)},
            "call.exited": {"wait_s": round(wait, 1),
                            "reason": "key" if "callback.requested" in steps else "timeout"},
            "call.transferred": {"talk_s": round(talk * 0.5, 1), "target": "SIP/8100"},
            "call.ended": {"wait_s": round(wait, 1), "talk_s": round(talk, 1),
                           "ended_by": rng.choice(("agent", "caller"))},
        }
        events = []
        for sequence, kind in enumerate(steps):
            self.events += 1
            occurred = entered + timedelta(seconds=at[kind] + sequence * 0.001)
            events.append({
                "event_id": f"{self.prefix}-e{self.events}", "source": SOURCE, "type": kind,
                "occurred_at": occurred.isoformat(timespec="milliseconds"),
                "sequence": sequence, "call_id": call_id, "queue": QUEUE,
                "agent": agent if kind in ("call.answered", "call.transferred", "call.ended")
                else None,
                "caller": caller, "metrics": metrics.get(kind, {}),
            })
        return events


def signing_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value: v1,<base64 HMAC-SHA256>."""
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class Prepared:
    """One ready request: its body, how many events it carries and its signature headers."""

    body: bytes
    events: int
    webhook_id: str
    timestamp: int
    signature: str

    def resign(self, key: bytes) -> None:
        self.timestamp = int(time.time())
        self.signature = sign(key, self.webhook_id, self.timestamp, self.body)


class RequestSource:
    """A thread's prepared requests, topped up on the fly if the pool runs out."""

    def __init__(self, stream: EventStream, key: bytes, batch: int):
        self.stream, self.key, self.batch = stream, key, batch
        self.made = self.made_during_load = 0
        self.pool: deque[Prepared] = deque()

    def make(self) -> Prepared:
        events = self.stream.take(self.batch)
        body = json.dumps(events if self.batch > 1 else events[0],
                          separators=(",", ":")).encode()
        self.made += 1
        webhook_id = f"msg_{self.stream.prefix}-{self.made}"
        timestamp = int(time.time())
        return Prepared(body, len(events), webhook_id, timestamp,
                        sign(self.key, webhook_id, timestamp, body))

    def fill(self, n: int) -> None:
        self.pool.extend(self.make() for _ in range(n))

    def next(self) -> Prepared:
        if self.pool:
            request = self.pool.popleft()
            if time.time() - request.timestamp > RESIGN_AFTER_S:
                request.resign(self.key)
            return request
        self.made_during_load += 1
        return self.make()


@dataclass
class ThreadStats:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    accepted: int = 0
    duplicates: int = 0
    events_sent: int = 0
    socket_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    last_end: float = 0.0


def _drive(source: RequestSource, host: str, port: int, token: str, start_at: float,
           stop_at: float, quota: int | None, stats: ThreadStats) -> None:
    """Send requests one at a time until the deadline or the quota."""
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
    base = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    time.sleep(max(0.0, start_at - time.monotonic()))
    sent = 0
    while (quota is None or sent < quota) and time.monotonic() < stop_at:
        request = source.next()
        headers = {**base, "webhook-id": request.webhook_id,
                   "webhook-timestamp": str(request.timestamp),
                   "webhook-signature": request.signature}
        sent += 1
        stats.events_sent += request.events
        began = time.monotonic()
        try:
            conn.request("POST", EVENTS_PATH, request.body, headers)
            response = conn.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            stats.socket_errors += 1
            if len(stats.error_samples) < KEEP_ERROR_BODIES:
                stats.error_samples.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            stats.last_end = time.monotonic()
            continue
        stats.last_end = time.monotonic()
        stats.latencies_ms.append((stats.last_end - began) * 1000)
        stats.statuses[response.status] += 1
        if 200 <= response.status < 300:
            try:
                result = json.loads(answer)
                stats.accepted += int(result.get("accepted", 0))
                stats.duplicates += int(result.get("duplicates", 0))
            except (ValueError, AttributeError, TypeError):
                stats.error_samples.append(f"{response.status} with a body that is not "
                                           f"the expected JSON: {answer[:200]!r}")
        elif len(stats.error_samples) < KEEP_ERROR_BODIES:
            text = answer[:300].decode(errors="replace")
            stats.error_samples.append(f"{response.status}: {text}")
    conn.close()


def _client_process(spec: dict[str, Any], ready: Any, results: Any, go: Any,
                    start_value: Any) -> None:
    """One client process: prepare every thread's pool, report ready, run on `go`."""
    key = signing_key(spec["secret"])
    now = datetime.now(STOCKHOLM)
    sources = []
    for index, pool in enumerate(spec["pools"]):
        prefix = f"{spec['run_id']}-p{spec['process']}t{index}"
        source = RequestSource(EventStream(prefix, prefix, now), key, spec["batch"])
        source.fill(pool)
        sources.append(source)
    ready.put(spec["process"])
    go.wait()
    start_at = start_value.value
    stop_at = start_at + spec["duration_s"] if spec["duration_s"] else math.inf
    stats = [ThreadStats() for _ in sources]
    threads = [threading.Thread(target=_drive, daemon=True, args=(
        source, spec["host"], spec["port"], spec["token"], start_at, stop_at, quota, st))
        for source, quota, st in zip(sources, spec["quotas"], stats, strict=True)]
    cpu_before = _cpu_seconds()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({
        "process": spec["process"],
        "cpu_s": _cpu_seconds() - cpu_before,
        "latencies_ms": [x for st in stats for x in st.latencies_ms],
        "statuses": dict(sum((st.statuses for st in stats), Counter())),
        "accepted": sum(st.accepted for st in stats),
        "duplicates": sum(st.duplicates for st in stats),
        "events_sent": sum(st.events_sent for st in stats),
        "socket_errors": sum(st.socket_errors for st in stats),
        "error_samples": [s for st in stats for s in st.error_samples][:KEEP_ERROR_BODIES],
        "last_end": max((st.last_end for st in stats), default=start_at),
        "prepared": sum(src.made for src in sources),
        "made_during_load": sum(src.made_during_load for src in sources),
    })


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class CallLoad:
    """How to load the endpoint once."""

    host: str
    port: int
    token: str
    secret: str
    batch: int  # events per request; 1 sends the single-object form
    concurrency: int
    processes: int
    duration_s: float | None  # a fixed window, or …
    requests: int | None  # … a fixed number of requests
    pool_requests: int  # requests prepared before the clock starts (all threads together)


@dataclass
class CallLoadResult:
    """What one run of the client saw."""

    batch: int
    wall_s: float
    answered: int
    statuses: dict[int, int]
    socket_errors: int
    accepted: int
    duplicates: int
    events_sent: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    client_cpu_s: float
    prepared: int
    made_during_load: int
    error_samples: list[str]
    start_at: float  # time.monotonic() when the load began

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> int:
        return self.answered - self.ok + self.socket_errors

    @property
    def rps(self) -> float:
        return self.ok / self.wall_s if self.wall_s else 0.0

    @property
    def accepted_per_s(self) -> float:
        return self.accepted / self.wall_s if self.wall_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events_per_request": self.batch, "wall_s": round(self.wall_s, 3),
            "req_per_s": round(self.rps, 1),
            "accepted_events_per_s": round(self.accepted_per_s, 1),
            "p50_ms": round(self.p50_ms, 2), "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2), "max_ms": round(self.max_ms, 2),
            "mean_ms": round(self.mean_ms, 2), "errors": self.errors,
            "answered": self.answered, "ok": self.ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "socket_errors": self.socket_errors, "accepted": self.accepted,
            "duplicates": self.duplicates, "events_sent": self.events_sent,
            "client_cpu_s": round(self.client_cpu_s, 2),
            "client_cpu_share": round(self.client_cpu_s / self.wall_s, 2) if self.wall_s else 0,
            "requests_prepared": self.prepared,
            "requests_made_during_load": self.made_during_load,
            "error_samples": self.error_samples,
        }


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def run_load(load: CallLoad, ready_timeout_s: float = 300.0) -> CallLoadResult:
    """Prepare the requests in the client processes, then load the endpoint at once."""
    ctx = multiprocessing.get_context("spawn")
    processes = max(1, min(load.processes, load.concurrency))
    threads = _split(load.concurrency, processes)
    quotas = _split(load.requests, load.concurrency) if load.requests else None
    pools = quotas or _split(load.pool_requests, load.concurrency)
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    start_value = ctx.Value("d", 0.0, lock=False)
    run_id = secrets.token_hex(4)
    children, offset = [], 0
    for index, count in enumerate(threads):
        spec = {"process": index, "run_id": run_id, "host": load.host, "port": load.port,
                "token": load.token, "secret": load.secret, "batch": load.batch,
                "duration_s": None if load.requests else load.duration_s,
                "pools": pools[offset:offset + count],
                "quotas": quotas[offset:offset + count] if quotas else [None] * count}
        offset += count
        child = ctx.Process(target=_client_process, name=f"bench-call-client-{index}",
                            args=(spec, ready, results, go, start_value), daemon=True)
        child.start()
        children.append(child)
    try:
        _await(ready, children, len(children), ready_timeout_s, "preparing requests")
        start_value.value = time.monotonic() + 0.2
        go.set()
        budget = (load.duration_s or 0) + REQUEST_TIMEOUT_S * 2 + (
            3600 if load.requests else 0)
        parts = _await(results, children, len(children), budget, "loading")
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
    return _combine(load.batch, start_value.value, parts)


def _await(channel: Any, children: list, expected: int, timeout_s: float,
           what: str) -> list[Any]:
    """Collect `expected` messages, failing fast when a client process dies."""
    got: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the call client timed out while {what}")
        try:
            got.append(channel.get(timeout=0.5))
        except queue.Empty:
            dead = [c for c in children if c.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a call client process died while {what} "
                                   f"(exit code {dead[0].exitcode})") from None
    return got


def _combine(batch: int, start_at: float, parts: list[dict[str, Any]]) -> CallLoadResult:
    latencies = sorted(x for part in parts for x in part["latencies_ms"])
    statuses: Counter = Counter()
    for part in parts:
        statuses.update({int(k): v for k, v in part["statuses"].items()})
    last_end = max(part["last_end"] for part in parts)
    return CallLoadResult(
        batch=batch, wall_s=max(0.0, last_end - start_at), answered=len(latencies),
        statuses=dict(statuses), socket_errors=sum(p["socket_errors"] for p in parts),
        accepted=sum(p["accepted"] for p in parts),
        duplicates=sum(p["duplicates"] for p in parts),
        events_sent=sum(p["events_sent"] for p in parts),
        p50_ms=percentile(latencies, 50), p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99), max_ms=latencies[-1] if latencies else 0.0,
        mean_ms=sum(latencies) / len(latencies) if latencies else 0.0,
        client_cpu_s=sum(p["cpu_s"] for p in parts),
        prepared=sum(p["prepared"] for p in parts),
        made_during_load=sum(p["made_during_load"] for p in parts),
        error_samples=[s for p in parts for s in p["error_samples"]][:KEEP_ERROR_BODIES],
        start_at=start_at)
