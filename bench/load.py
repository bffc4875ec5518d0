"""Drive HTTP load with wrk and a generated Lua script.

wrk is used rather than a Python client because a Python load generator would need
more CPU than the server it measures, and this machine has only two cores. The Lua
script counts requests sent and answers by status in every wrk thread, and `done()`
adds them up and prints one machine-readable line that `run_wrk` parses.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from services import HarnessError

RESULT_PREFIX = "BENCH_RESULT "
SUBJECT_MARK = "@@N@@"

CASE_BODY = {
    "channel": "email",
    "subject": f"Bygglov för altan {SUBJECT_MARK}",
    "description": "Behöver jag bygglov för en altan på 20 kvadratmeter?",
    "contact": {"email": "bench@example.se"},
}

LUA_TEMPLATE = """\
-- POST load for the citizencenter benchmark (generated; do not edit).
-- The first argument after `--` seeds the idempotency keys, fresh for every run.
local path = {path}
local body_head = {body_head}
local body_tail = {body_tail}
local idempotent = {idempotent}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{auth_line}

local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  seed = args[1] or error("pass a key seed after --")
  sent = 0
  replayed = 0
  statuses = {{}}
end

function request()
  sent = sent + 1
  local n = tid .. "-" .. sent
  if idempotent then
    wrk.headers["Idempotency-Key"] = seed .. "-" .. n
  end
  return wrk.format(nil, path, nil, body_head .. n .. body_tail)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if headers["Idempotent-Replayed"] then
    replayed = replayed + 1
  end
end

function done(summary, latency, requests)
  local total_sent, total_replayed = 0, 0
  local merged = {{}}
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    total_replayed = total_replayed + thread:get("replayed")
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {{}}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    '{prefix}{{"requests":%d,"duration_us":%d,"sent":%d,"replayed":%d,"statuses":{{%s}},' ..
    '"errors":{{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}},' ..
    '"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"max_us":%.1f,"mean_us":%.1f}}\\n',
    summary.requests, summary.duration, total_sent, total_replayed, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def lua_string(value: str) -> str:
    """A Lua string literal; bytes outside printable ASCII become decimal escapes."""
    out = []
    for byte in value.encode():
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write_script(directory: Path, name: str, path: str, token: str | None,
                 idempotent: bool) -> Path:
    """The Lua script for one target (`run_wrk` passes each run a fresh key seed)."""
    body = json.dumps(CASE_BODY, ensure_ascii=False, separators=(",", ":"))
    head, tail = body.split(SUBJECT_MARK)
    auth = (f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}'
            if token else "")
    script = LUA_TEMPLATE.format(
        path=lua_string(path),
        body_head=lua_string(head), body_tail=lua_string(tail),
        idempotent="true" if idempotent else "false", auth_line=auth,
        prefix=RESULT_PREFIX)
    target = directory / f"{name}.lua"
    target.write_text(script)
    return target


@dataclass
class LoadResult:
    """What one wrk run saw."""

    duration_s: float
    sent: int
    answered: int
    replayed: int
    statuses: dict[int, int]
    socket_errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def created(self) -> int:
        """201 answers that created something (a replayed answer created nothing)."""
        return self.statuses.get(201, 0) - self.replayed

    @property
    def errors(self) -> int:
        """Answers other than 2xx plus connect, read, write errors and timeouts."""
        return self.answered - self.ok + sum(self.socket_errors.values())

    @property
    def unanswered(self) -> int:
        """Requests sent whose answer wrk never read (in flight when the run ended)."""
        return max(0, self.sent - self.answered)

    @property
    def rps(self) -> float:
        """Successful answers per second; failures are not throughput."""
        return self.ok / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict:
        return {
            "req_per_s": round(self.rps, 1), "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2), "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2), "mean_ms": round(self.mean_ms, 2),
            "errors": self.errors, "duration_s": round(self.duration_s, 3),
            "sent": self.sent, "answered": self.answered, "ok": self.ok,
            "replayed": self.replayed,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "socket_errors": self.socket_errors,
        }


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise HarnessError("wrk is not installed: run `apt-get install wrk` as root")
    print("installing wrk with apt-get …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        result = subprocess.run(argv, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise HarnessError(f"`{' '.join(argv)}` failed: {result.stderr.strip()[-2000:]}")
    found = shutil.which("wrk")
    if not found:
        raise HarnessError("wrk is still missing after apt-get install wrk")
    return found


def run_wrk(wrk: str, url: str, script: Path, duration_s: float, connections: int,
            threads: int, log: Path) -> LoadResult:
    """Run wrk once and parse the line the script's `done()` prints."""
    threads = max(1, min(threads, connections))
    argv = [wrk, "--latency", "--timeout", "30s", "-t", str(threads), "-c", str(connections),
            "-d", f"{max(1, round(duration_s))}s", "-s", str(script), url,
            "--", secrets.token_hex(8)]
    result = subprocess.run(argv, capture_output=True, text=True)
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith(RESULT_PREFIX)), None)
    if result.returncode != 0 or line is None:
        raise HarnessError(f"wrk failed (code {result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")
    data = json.loads(line.removeprefix(RESULT_PREFIX))
    statuses = {int(k): v for k, v in data["statuses"].items()}
    errors = data["errors"]
    return LoadResult(
        duration_s=data["duration_us"] / 1e6, sent=data["sent"], answered=data["requests"],
        replayed=data["replayed"],
        statuses=statuses,
        socket_errors={k: errors[k] for k in ("connect", "read", "write", "timeout")},
        p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000, max_ms=data["max_us"] / 1000,
        mean_ms=data["mean_us"] / 1000)
