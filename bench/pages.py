"""Page benchmark: "Mina ärenden" (`GET /`) for a signed-in guide at 100,000 cases.

Seeds the cases as the listing benchmark does (bulk SQL), then makes the guide's work
realistic: the open and new cases nobody has wait in their queues, a few dozen are the
guide's own, and every active case has a running SLA clock (some near their warning or
past their due time). Signs the demo guide in through the sign-in form, then loads `/`
with wrk and the session cookie: p50/p99 at 8 connections. The goal (issue #13, "Speed")
is p99 <= 100 ms.

    .venv/bin/python bench/run.py --only pages [--pages-cases 100000]
"""

from __future__ import annotations

import argparse
import http.cookies
import re
import secrets
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

TARGET_P99_MS = 100.0
CONNECTIONS = 8
GUIDE_EMAIL = "anna.lindqvist@lund.example"
# One seeded case in this many active ones is the guide's own (about 40 at 100,000 cases).
OWN_EVERY = 1000
CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pages-cases", type=int, default=100_000,
                        help="cases seeded with bulk SQL for the page benchmark "
                             "(default 100000)")
    parser.add_argument("--pages-concurrency", type=int, default=CONNECTIONS,
                        help=f"wrk connections for the page benchmark (default {CONNECTIONS})")


def shape_work(engine: Engine, guide_email: str = GUIDE_EMAIL) -> dict:
    """The seeded cases as a guide's day finds them: waiting, own, on the SLA clock."""
    with engine.begin() as conn:
        guide_id = conn.execute(text("SELECT id FROM users WHERE email = :e"),
                                {"e": guide_email}).scalar_one()
        own = conn.execute(text(
            "UPDATE cases SET assignee_id = :guide, status = 'open', waiting_since = NULL "
            "WHERE reference LIKE 'MC-2001-%' AND status IN ('new', 'open') "
            "  AND (substr(reference, 9)::int % :every) = 0"),
            {"guide": guide_id, "every": OWN_EVERY}).rowcount
        waiting = conn.execute(text(
            "UPDATE cases SET waiting_since = received_at "
            "WHERE reference LIKE 'MC-2001-%' AND status IN ('new', 'open') "
            "  AND assignee_id IS NULL")).rowcount
        # A first-response clock for every active case: due 8 hours after it came in, so
        # the newest are in time, some in their warning and the older ones breached.
        policy = conn.execute(text(
            "SELECT id, metric FROM sla_policies ORDER BY id LIMIT 1")).one()
        timers = conn.execute(text(
            "INSERT INTO sla_timers (case_id, policy_id, metric, target_value, target_unit, "
            "  target_s, warn_at_percent, pause_statuses, status, started_at, due_at, "
            "  warn_at, paused_s, breached_at, updated_at) "
            "SELECT id, :policy, :metric, 8, 'hours', 28800, 80, '[]', 'running', "
            "  received_at, received_at + interval '8 hours', "
            "  received_at + interval '384 minutes', 0, "
            "  CASE WHEN received_at + interval '8 hours' < now() "
            "       THEN received_at + interval '8 hours' END, now() "
            "FROM cases WHERE reference LIKE 'MC-2001-%' "
            "  AND status IN ('new', 'open', 'waiting_on_citizen', 'forwarded')"),
            {"policy": policy.id, "metric": policy.metric}).rowcount
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))
        conn.execute(text("VACUUM ANALYZE sla_timers"))
    return {"guide_id": guide_id, "own": own, "waiting": waiting, "running_timers": timers}


def set_password(cli: str, env: dict[str, str], email: str) -> str:
    """A fresh password for `email`, through `citizencenter set-password` (standard input)."""
    password = secrets.token_urlsafe(16)
    result = subprocess.run([cli, "set-password", "--email", email], input=password + "\n",
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"set-password failed: {(result.stderr or result.stdout)[-1500:]}")
    return password


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(app_base: str, email: str, password: str) -> str:
    """Sign in through the form as the browser does; the Cookie header of the session.

    Cookies are kept by hand: the session cookie is Secure outside the embedded run, and
    a cookie jar would not send it back over loopback HTTP.
    """
    cookies: dict[str, str] = {}

    def keep(headers) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            for morsel in http.cookies.SimpleCookie(header).values():
                cookies[morsel.key] = morsel.value

    def header() -> str:
        return "; ".join(f"{name}={value}" for name, value in cookies.items())

    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(f"{app_base}/login", timeout=30) as response:
        keep(response.headers)
        token = CSRF_FIELD.search(response.read().decode()).group(1)
    form = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf_token": token}).encode()
    request = urllib.request.Request(f"{app_base}/login", data=form,
                                     headers={"Cookie": header()})
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as answer:  # the redirect to "/" after signing in
        if answer.code not in (302, 303):
            raise RuntimeError(f"sign-in answered {answer.code}") from None
        keep(answer.headers)
    else:
        raise RuntimeError("sign-in did not redirect: wrong password or lock-out")
    return header()


def check_page(app_base: str, cookie: str) -> int:
    """The page renders for the signed-in guide (not the sign-in form); its size in bytes."""
    request = urllib.request.Request(f"{app_base}/", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    if b'name="password"' in body or "Mina ärenden".encode() not in body:
        raise RuntimeError("GET / did not show the signed-in guide's page")
    return len(body)


LUA_PAGE = """\
-- GET / as a signed-in guide for the citizencenter page benchmark (generated; do not edit).
wrk.method = "GET"
wrk.headers["Cookie"] = {cookie}

local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  replayed = 0
  statuses = {{}}
end

function request()
  sent = sent + 1
  return wrk.format(nil, "/")
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

"""


def write_script(directory: Path, cookie: str) -> Path:
    from load import LUA_TEMPLATE, RESULT_PREFIX, lua_string

    done = LUA_TEMPLATE[LUA_TEMPLATE.index("function done("):]
    script = LUA_PAGE.format(cookie=lua_string(cookie)) + done.format(prefix=RESULT_PREFIX)
    target = directory / "pages-home.lua"
    target.write_text(script)
    return target


def run_pages(args: argparse.Namespace, stack, engine: Engine, wrk: str, app_base: str,
              app_child, env: dict[str, str], scratch: Path, problems: list[str]) -> dict:
    """Seed and shape, sign in, then load `/` with wrk; the `pages` section of the report."""
    import listing
    from load import run_wrk
    from services import RssSampler, cli_executable

    print(f"bench: pages: seeding {args.pages_cases} cases with bulk SQL …", flush=True)
    seeded = listing.seed(engine, args.pages_cases)
    work = shape_work(engine)
    listing.settle_after_seeding(env)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    password = set_password(cli_executable("citizencenter"), env, GUIDE_EMAIL)
    cookie = sign_in(app_base, GUIDE_EMAIL, password)
    size = check_page(app_base, cookie)
    script = write_script(scratch, cookie)
    connections = args.pages_concurrency
    print(f"bench: pages: GET / as {GUIDE_EMAIL} ({args.warmup:g} s warm-up + "
          f"{args.duration:g} s, {connections} connections) …", flush=True)
    log = stack.log_dir / "wrk.log"
    url = app_base + "/"
    threads = min(args.wrk_threads, connections)
    if args.warmup > 0:
        run_wrk(wrk, url, script, args.warmup, connections, threads, log)
    with RssSampler(app_child.process.pid) as rss:
        result = run_wrk(wrk, url, script, args.duration, connections, threads, log)
    stack.check_alive()
    if result.errors:
        problems.append(f"pages: GET /: {result.errors} errors (statuses {result.statuses})")
    met = result.p99_ms <= TARGET_P99_MS and not result.errors
    print(f"bench:   {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, "
          f"p99 {result.p99_ms:.1f} ms, {result.errors} errors", flush=True)
    return {"seeded": seeded, "work": work, "total_cases": total, "page_bytes": size,
            "concurrency": connections, "p99_target_ms": TARGET_P99_MS,
            "home": {**result.as_dict(), "peak_rss_mb": round(rss.peak / 2**20, 1),
                     "p99_met": met}}


def render(section: dict) -> list[str]:
    """The page table against the p99 goal."""
    row, work = section["home"], section["work"]
    return [f"pages: GET / (Mina ärenden) as a signed-in guide at {section['total_cases']} "
            f"cases ({work['waiting']} waiting, {work['own']} the guide's own, "
            f"{work['running_timers']} running SLA clocks), {section['concurrency']} connections",
            f"{'page':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
            f"{'peak RSS MB':>13}  goal p99 <= {section['p99_target_ms']:g} ms",
            f"{'Mina ärenden':<26}{row['req_per_s']:>9.1f}{row['p50_ms']:>9.1f}"
            f"{row['p99_ms']:>9.1f}{row['errors']:>8}{row['peak_rss_mb']:>13.1f}  "
            f"{'met' if row['p99_met'] else 'missed'}"]


def goal(report: dict) -> tuple[str, bool] | None:
    """The issue #13 speed goal for the closing table, or None when the part did not run."""
    section = report.get("pages")
    if section is None:
        return None
    row = section["home"]
    return (f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms at "
            f"{section['total_cases']} cases, {section['concurrency']} connections",
            row["p99_met"])
