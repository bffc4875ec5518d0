"""Listing benchmark: `GET /api/v1/cases` for a queue's open cases at 100,000 cases.

Seeds the cases with bulk SQL (PostgreSQL's generate_series, not through the API):
contacts, the demo queues and categories, every channel and status, Swedish subjects,
received over the last year. Then loads two queries with wrk, each rotating over the
queues: a queue's open cases, newest first, 50 per page; and the same with a `q` text
filter. The goal is p99 <= 50 ms at 16 connections for both.

The first query is also run against the listing floor (`listing_floor_app.py`: the same
page statement and JSON with nothing the API adds), alternating with the app for
`--rounds`, so the app's cost is read as a ratio measured in the same minutes.

    .venv/bin/python bench/run.py --only listing [--listing-cases 100000]
    .venv/bin/python bench/listing.py --database-url postgresql+psycopg://… --explain
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

TARGET_P99_MS = 50.0
PAGE = 50
# Words a guide would type into the search box; some frequent, some rare.
SEARCH_TERMS = ["bygglov", "parkering", "förskola", "sophämtning", "faktura", "Dalby",
                "bidrag", "gatubelysning"]

TOPICS = [
    "Bygglov för altan", "Bygglov för carport", "Fråga om bygganmälan för eldstad",
    "Strandskyddsdispens vid sommarstuga", "Plats i förskola till hösten",
    "Byte av förskola", "Skolskjuts för mitt barn", "Ansökan om fritidshem",
    "Missad sophämtning", "Nytt sopkärl till villan", "Grovavfall och återvinningscentral",
    "Felparkerad bil på gatan", "Ansökan om parkeringstillstånd", "Trasig gatubelysning",
    "Hål i cykelvägen", "Snöröjning på vår gata", "Klotter på busskur",
    "Ekonomiskt bistånd i väntan på lön", "Bostadsbidrag och försörjningsstöd",
    "Fråga om faktura för vatten och avlopp", "Faktura för barnomsorg",
    "Buller från granne", "Mögel i hyreslägenheten", "Tillstånd för servering",
    "Boka lokal i kulturhuset", "Simhallens öppettider", "Bibliotekskort förlorat",
    "Synpunkt på bemötande", "Klagomål på vägarbete", "Färdtjänst till sjukhuset",
    "Hemtjänst för min mamma", "Anmälan om ovårdad tomt", "Träd som skymmer sikten",
    "Lekplatsen är trasig", "Val och röstkort", "Borgerlig vigsel i rådhuset",
]
PLACES = ["Lund", "Dalby", "Genarp", "Veberöd", "Södra Sandby", "Stångby", "Torna Hällestad",
          "Linero", "Norra Fäladen", "Klostergården"]
CHANNELS = ["phone", "email", "webform", "social", "walk_in"]
# Weights by repetition: a year's cases are mostly resolved or closed.
STATUSES = (["open"] * 5 + ["new"] * 1 + ["waiting_on_citizen"] * 2 + ["forwarded"] * 1
            + ["resolved"] * 5 + ["closed"] * 6)
PRIORITIES = ["normal"] * 8 + ["low", "high"]


def _pg_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# A conversation and notes for the seeded cases' search documents (bench/search.py has
# its own): the words a `q` row looks for are in the subjects, these add the bulk.
MESSAGES = ["Hej! Jag undrar hur lång tid handläggningen tar.",
            "Vi har fått ett besked men vill ha det förklarat.",
            "Kan ni ringa mig om ärendet?"]
NOTES = ["Ringde upp medborgaren, lovade återkoppling inom en vecka.",
         "Vidarebefordrat för bedömning."]


def seed(engine: Engine, cases: int, contacts: int | None = None, *,
         documents: bool = True) -> dict:
    """Add `cases` cases (and their contacts) with a few set-based INSERTs, and (unless
    `documents` is false) their search documents (`write_documents`)."""
    contacts = contacts or max(1, cases // 5)
    started = time.monotonic()
    with engine.begin() as conn:
        queue_ids = conn.execute(text("SELECT id FROM queues ORDER BY id")).scalars().all()
        if not queue_ids:
            raise RuntimeError("no queues: load the demo data first (citizencenter seed-demo)")
        first_contact = conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM contacts")) \
            .scalar_one()
        conn.execute(text(
            "INSERT INTO contacts (id, name, email, phone, created_at) "
            "SELECT :first + n, 'Invånare ' || n, 'invanare' || n || '@example.se', "
            "       '+4646' || lpad(n::text, 6, '0'), now() - interval '400 days' "
            "FROM generate_series(0, :count - 1) AS n"),
            {"first": first_contact, "count": contacts})
        conn.execute(text("SELECT setval(pg_get_serial_sequence('contacts', 'id'), "
                          "(SELECT max(id) FROM contacts))"))
        # Cases every ~5 minutes back from now; references in a year of their own so they
        # never meet the counter the API draws from. Routed, their timers started (marked
        # only: they have none), and none resolved in the last two days, so that
        # reconciliation takes none of the last day's for lost intake or an owed feedback
        # invitation, and does that work in the middle of a measured load.
        conn.execute(text(
            "INSERT INTO cases (id, reference, channel, kind, status, priority, subject, "
            "  category_id, contact_id, queue_id, received_at, routed_at, first_response_at, "
            "  resolved_at, closed_at, resolved_at_first_contact, required_skills, "
            "  updated_at, version, sla_started_at) "
            "SELECT gen_random_uuid(), 'MC-2001-' || lpad(n::text, 6, '0'), "
            f"  ({_pg_array(CHANNELS)})[1 + n % {len(CHANNELS)}], 'inquiry', status, "
            f"  ({_pg_array(PRIORITIES)})[1 + (n / 7) % {len(PRIORITIES)}], "
            f"  ({_pg_array(TOPICS)})[1 + (n * 7) % {len(TOPICS)}] || ' – ' || "
            f"  ({_pg_array(PLACES)})[1 + (n / 3) % {len(PLACES)}], "
            "  (SELECT id FROM categories ORDER BY id OFFSET (n % greatest(1, "
            "     (SELECT count(*) FROM categories))) LIMIT 1), "
            "  :first_contact + (n * 7919) % :contacts, "
            "  (:queues)[1 + (n / 11) % cardinality(:queues)], "
            "  received, received + interval '2 seconds', "
            "  CASE WHEN status <> 'new' THEN received + interval '3 hours' END, "
            "  CASE WHEN status IN ('resolved', 'closed') THEN received + interval '1 day' END, "
            "  CASE WHEN status = 'closed' THEN received + interval '8 days' END, "
            "  n % 3 = 0, '[]', received, 1, received + interval '2 seconds' "
            "FROM (SELECT n, now() - n * interval '5 minutes' - interval '1 hour' AS received, "
            f"            ({_pg_array(STATUSES)})[1 + (n * 13) % {len(STATUSES)}] AS drawn "
            "      FROM generate_series(1, :count) AS n) AS g, "
            "LATERAL (SELECT CASE WHEN n * interval '5 minutes' < interval '2 days' "
            "                 AND drawn IN ('resolved', 'closed') THEN 'open' "
            "                 ELSE drawn END AS status) AS s"),
            {"count": cases, "contacts": contacts, "first_contact": first_contact,
             "queues": list(queue_ids)})
    if documents:
        write_documents(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE contacts"))
        conn.execute(text("VACUUM ANALYZE cases"))
    return {"cases": cases, "contacts": contacts, "queues": len(queue_ids),
            "seconds": round(time.monotonic() - started, 1)}


def write_documents(engine: Engine, messages: list[str] | None = None,
                    notes: list[str] | None = None) -> None:
    """The search documents (`case_documents`) of the cases that have none, as
    `cases.search` writes them at intake: the folded subject, a message or two and a note
    (folded here, by `citizencenter.swedish`, as the service does). In order of arrival, so
    the newest cases have the newest documents, as intake leaves them."""
    from citizencenter.swedish import folded

    messages = [folded(m) for m in (messages or MESSAGES)]
    notes = [folded(n) for n in (notes or NOTES)]
    with engine.begin() as conn:
        subjects = conn.execute(text(
            "SELECT DISTINCT subject FROM cases AS c WHERE NOT EXISTS "
            "(SELECT 1 FROM case_documents AS d WHERE d.case_id = c.id)")).scalars().all()
        conn.execute(text(
            "INSERT INTO case_documents (case_id, subject, messages, notes) "
            "SELECT c.id, f.folded, "
            f" ({_pg_array(messages)})[1 + (n * 7) % {len(messages)}] || ' ' || "
            f" ({_pg_array(messages)})[1 + (n * 3) % {len(messages)}], "
            f" ({_pg_array(notes)})[1 + n % {len(notes)}] "
            "FROM (SELECT id, subject, (row_number() OVER (ORDER BY received_at, id))::int "
            "      AS n FROM cases AS c WHERE NOT EXISTS "
            "      (SELECT 1 FROM case_documents AS d WHERE d.case_id = c.id)) AS c "
            "JOIN unnest(CAST(:subjects AS text[]), CAST(:folded AS text[])) "
            "     AS f (subject, folded) ON f.subject = c.subject "
            "ORDER BY c.n"),
            {"subjects": list(subjects), "folded": [folded(s) for s in subjects]})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE case_documents"))


def settle_after_seeding(env: dict[str, str]) -> None:
    """Bring the report rollups up to date with the seeded history and flush the seeding's
    writes now: the beat's refresh would otherwise read every seeded case in the middle
    of a measured load (half a core for half a minute at 100,000 cases)."""
    from services import HarnessError, _citizencenter, _psql

    print("bench: bringing the report rollups up to date with the seeded cases …", flush=True)
    _citizencenter(env, "refresh-rollups")

    try:
        _psql("CHECKPOINT")  # superuser only: through the local postgres account
    except (HarnessError, OSError):
        print("bench: listing: no CHECKPOINT after seeding (not root on the database's "
              "machine); the first load may pay for the seeding's writes", flush=True)


def queue_slugs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT slug FROM queues ORDER BY id")).scalars())


def paths(slugs: list[str], sort: str | None = None) -> list[str]:
    """The request paths one load rotates over: a queue's open cases, and with `sort` the
    same searched for each of SEARCH_TERMS in that order (newest or relevance)."""
    from urllib.parse import quote

    base = [f"/api/v1/cases?queue={slug}&status=open&limit={PAGE}" for slug in slugs]
    if sort is None:
        return base
    return [f"{path}&q={quote(term)}&sort={sort}" for term in SEARCH_TERMS for path in base]


# The loads: key, label, the search's order (none: no q).
QUERIES = (("queue_open", "queue, open, newest", None),
           ("queue_open_q", "... and q, newest", "newest"),
           ("queue_open_q_relevance", "... and q, by relevance", "relevance"))


def explain(engine: Engine, queue: str, q: str | None, sort: str | None = None) -> str:
    """EXPLAIN ANALYZE of the page statement the API runs, as an admin: the service's own
    statement and parameters, in its transaction (a search's planner settings hold)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from citizencenter.accounts.models import Role
    from citizencenter.accounts.service import Principal
    from citizencenter.cases.service import list_cases
    from citizencenter.db import load_all
    from citizencenter.pagination import Paginator

    load_all()
    statements = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    admin = Principal(actor="bench", scopes=frozenset({"*"}), role=Role.ADMIN)
    paginator = Paginator("explain-only", max_age_s=60, default_limit=PAGE, max_limit=PAGE)
    with Session(engine) as session:
        event.listen(engine, "before_cursor_execute", remember)
        try:
            list_cases(session, admin, paginator, limit=PAGE, queue=queue, status="open",
                       **({"q": q} if q else {}), **({"sort": sort} if sort else {}))
        finally:
            event.remove(engine, "before_cursor_execute", remember)
        statement, parameters = max(statements, key=lambda s: len(s[0]))  # the page's
        rows = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
    return "\n".join(rows)


LUA_GET = """\
-- GET load for the citizencenter listing benchmark (generated; do not edit).
local paths = {paths}
wrk.method = "GET"
{auth}

local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  sent = 0
  replayed = 0
  statuses = {{}}
end

function request()
  sent = sent + 1
  -- Threads start at different queues so the connections do not move in step.
  return wrk.format(nil, paths[1 + (sent + tid * 7) % #paths])
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

"""


def write_get_script(directory: Path, name: str, request_paths: list[str],
                     token: str | None) -> Path:
    """A wrk script that GETs `request_paths` in turn (with the bearer `token`, if any); its
    last line is the one run_wrk reads."""
    from load import LUA_TEMPLATE, RESULT_PREFIX, lua_string

    done = LUA_TEMPLATE[LUA_TEMPLATE.index("function done("):]
    auth = f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}' if token else ""
    script = LUA_GET.format(
        paths="{" + ", ".join(lua_string(p) for p in request_paths) + "}",
        auth=auth) + done.format(prefix=RESULT_PREFIX)
    target = directory / f"{name}.lua"
    target.write_text(script)
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listing-cases", type=int, default=100_000,
                        help="cases seeded with bulk SQL for the listing benchmark "
                             "(default 100000)")


def run_listing(args: argparse.Namespace, stack, engine: Engine, wrk: str, app_base: str,
                app_child, token: str, scratch: Path, problems: list[str], env: dict,
                settings) -> dict:
    """Seed, then load the list queries with wrk (the first also against the floor); the
    `listing` section of the report."""
    from services import BENCH_DIR, http_ok, start_gunicorn, wait_until

    print(f"bench: listing: seeding {args.listing_cases} cases with bulk SQL …", flush=True)
    seeded = seed(engine, args.listing_cases)
    settle_after_seeding(env)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    slugs = queue_slugs(engine)
    floor_child, floor_port = start_gunicorn(stack, "listing-floor", "listing_floor_app:app",
                                             env, settings, chdir=BENCH_DIR)
    floor_base = f"http://127.0.0.1:{floor_port}"
    wait_until(http_ok(f"{floor_base}/"), "the listing floor", stack)
    floor_paths = [p.replace("/api/v1/cases?", "/cases?") for p in paths(slugs)]
    floor = {"url": floor_base + "/cases", "child": floor_child,
             "script": write_get_script(scratch, "listing-floor", floor_paths, None)}
    queries, floor_runs = {}, []
    for key, _, sort in QUERIES:
        with_q = sort is not None
        app = {"url": app_base + "/api/v1/cases", "child": app_child,
               "script": write_get_script(scratch, f"listing-{key}", paths(slugs, sort),
                                          token)}
        label = "a queue's open cases" + (f" with q, {sort}" if with_q else "")
        runs = []
        for round_ in range(1 if with_q else max(1, args.rounds)):
            if not with_q:
                print(f"bench: listing: the floor, round {round_ + 1} …", flush=True)
                floor_runs.append(_load(args, stack, engine, wrk, floor, warm=round_ == 0))
            print(f"bench: listing: {label} ({args.warmup:g} s warm-up + {args.duration:g} s, "
                  f"{args.concurrency} connections) …", flush=True)
            runs.append(_load(args, stack, engine, wrk, app, warm=round_ == 0))
        best = max(runs, key=lambda run: run["req_per_s"])
        if best["errors"]:
            problems.append(f"listing: {label}: {best['errors']} errors "
                            f"(statuses {best['statuses']})")
        queries[key] = {**best, "p99_met": best["p99_ms"] <= TARGET_P99_MS and not best["errors"],
                        "runs": runs}
    floor_best = max(floor_runs, key=lambda run: run["req_per_s"])
    if floor_best["errors"]:
        problems.append(f"listing: the floor: {floor_best['errors']} errors")
    app_rps = queries["queue_open"]["req_per_s"]
    return {"seeded": seeded, "total_cases": total, "page": PAGE, "queues": slugs,
            "search_terms": SEARCH_TERMS, "concurrency": args.concurrency,
            "p99_target_ms": TARGET_P99_MS, "queries": queries,
            "floor": {**floor_best, "runs": floor_runs,
                      "app_ratio": round(app_rps / floor_best["req_per_s"], 2)
                      if floor_best["req_per_s"] else 0.0}}


def _load(args, stack, engine: Engine, wrk: str, target: dict, warm: bool) -> dict:
    """One wrk run (after a warm-up if `warm`): the figures, peak RSS and the cores used."""
    from load import run_wrk
    from services import RssSampler, cpu_snapshot

    log = stack.log_dir / "wrk.log"
    if warm and args.warmup > 0:
        run_wrk(wrk, target["url"], target["script"], args.warmup, args.concurrency,
                args.wrk_threads, log)
    roots = {"app": target["child"].process.pid}
    before = cpu_snapshot(roots, engine.url.database)
    with RssSampler(target["child"].process.pid) as rss:
        result = run_wrk(wrk, target["url"], target["script"], args.duration, args.concurrency,
                         args.wrk_threads, log)
    after = cpu_snapshot(roots, engine.url.database)
    used = {name: after[name] - before[name] for name in before}
    # wrk itself is in "other": it is not a child of this process tree.
    used["other"] = max(0.0, used.pop("machine") - used["app"] - used["postgres"])
    stack.check_alive()
    print(f"bench:   {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, "
          f"p99 {result.p99_ms:.1f} ms, {result.errors} errors", flush=True)
    return {**result.as_dict(), "peak_rss_mb": round(rss.peak / 2**20, 1),
            "cores_busy": {name: round(seconds / result.duration_s, 2)
                           for name, seconds in used.items()}}


def render(section: dict) -> list[str]:
    """The listing table: the queries against the p99 goal, and the floor."""
    rows = [f"listing: GET /api/v1/cases at {section['total_cases']} cases "
            f"({section['seeded']['cases']} seeded in {section['seeded']['seconds']:g} s), "
            f"{section['page']} per page, {section['concurrency']} connections",
            f"{'query':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
            f"{'peak RSS MB':>13}  goal p99 <= {section['p99_target_ms']:g} ms"]
    floor = section.get("floor")
    shown = [(section["queries"][key], label) for key, label, _ in QUERIES
             if key in section["queries"]]
    if floor:
        shown.insert(1, (floor, "the floor, same page"))
    for row, label in shown:
        goal = "" if row is floor else ("met" if row["p99_met"] else "missed")
        rows.append(f"{label:<26}{row['req_per_s']:>9.1f}{row['p50_ms']:>9.1f}"
                    f"{row['p99_ms']:>9.1f}{row['errors']:>8}{row['peak_rss_mb']:>13.1f}  {goal}")
    if floor:
        rows.append(f"API/floor throughput, queue's open cases: {floor['app_ratio']:.2f} (the "
                    "floor: the same statement and JSON, no auth, session or visibility rules; "
                    f"best of {len(floor['runs'])} alternating run(s) each)")
    for row, label in shown:
        rows.append(f"{label}: cores busy: " + ", ".join(
            f"{name} {value:.2f}" for name, value in row["cores_busy"].items())
            + " (other: wrk and every process outside the stack)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed cases in bulk and EXPLAIN the list "
                                                 "queries (the load runs from bench/run.py).")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=0, help="cases to add first (default 0)")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import create_engine

    engine = create_engine(args.database_url)
    if args.seed:
        print(seed(engine, args.seed))
    if args.explain:
        slugs = queue_slugs(engine)
        for q, sort in ((None, None), ("bygglov", "newest"), ("gatubelysning", "newest"),
                        ("bygglov", "relevance"), ("gatubelysning", "relevance")):
            print(f"--- queue={slugs[1]} status=open q={q} sort={sort}")
            print(explain(engine, slugs[1], q, sort))
    return 0


if __name__ == "__main__":
    sys.exit(main())
