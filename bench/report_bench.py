"""Service-measurement report benchmark on PostgreSQL.

    .venv/bin/python bench/report_bench.py --database-url postgresql+psycopg://…/bench_db

Generates a year (default 1,000,000 calls, 300,000 e-mails, 200,000 phone cases, with
holidays closed, transfers and abandons) with set-based SQL, rolls it up from scratch,
then measures the year's report latency and one incremental refresh after a typical
15 minutes of new activity. The database is emptied and migrated first: everything in
it is dropped with the schema, so give it a database of its own.
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, literal, select, text  # noqa: E402

from citizencenter import create_app, db, demo  # noqa: E402
from citizencenter.cases.models import Case  # noqa: E402
from citizencenter.cli import upgrade_database  # noqa: E402
from citizencenter.reports import service as reports  # noqa: E402
from citizencenter.sla.calendars.swedish_holidays import is_closed_day  # noqa: E402

STOCKHOLM = "Europe/Stockholm"


def _defaults_for_missing(table, provided: set[str]) -> list:
    """Literal values for NOT NULL columns the generator does not fill (other domains')."""
    extra = []
    for column in table.columns:
        if column.name in provided or column.nullable or column.primary_key:
            continue
        default = column.default
        if default is None:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        extra.append((column.name, literal(value, column.type)))
    return extra


def _insert_select(session, table, columns: list[str], select_sql: str, params: dict) -> None:
    extra = _defaults_for_missing(table, set(columns))
    names = columns + [name for name, _ in extra]
    query = select(text("*")).select_from(text(f"({select_sql}) AS generated"))
    query = query.add_columns(*[value for _, value in extra]) if extra else query
    session.execute(insert(table).from_select(names, query), params)


def reset_schema(url: str) -> None:
    """Empty the bench's own database; deleting a year row by row would take far longer."""
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def generate(session, year: int, calls: int, emails: int) -> dict:
    session.execute(text("SELECT setseed(0.2025)"))
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(365)]
    open_days = [d for d in days if d.weekday() < 5 and not is_closed_day(d)]
    guides = list(session.scalars(text("SELECT id FROM users WHERE role = 'guide'")))
    queues = dict(session.execute(text("SELECT slug, id FROM queues")).all())
    departments = list(session.scalars(text("SELECT id FROM departments")))
    categories = list(session.scalars(text("SELECT id FROM categories")))
    session.execute(text(
        "INSERT INTO contacts (email, phone, created_at) SELECT 'bench-' || g || "
        "'@example.se', NULL, now() FROM generate_series(1, 50000) g"))
    low, high = session.execute(text(
        "SELECT min(id), max(id) FROM contacts WHERE email LIKE 'bench-%'")).one()
    common = {"guides": guides, "departments": departments, "categories": categories,
              "low": low, "span": high - low + 1, "days": days, "open_days": open_days}
    case_columns = ["id", "reference", "channel", "kind", "status", "priority", "subject",
                    "category_id", "contact_id", "queue_id", "department_id", "assignee_id",
                    "received_at", "first_response_at", "resolved_at",
                    "resolved_at_first_contact", "updated_at", "version"]
    case_select = """
        SELECT md5(:prefix || g)::uuid, 'BEN-' || :prefix || g, :channel,
               'inquiry', CASE WHEN r4 < 0.85 THEN 'resolved' ELSE 'open' END, 'normal',
               'Bench', (CAST(:categories AS int[]))[1 + floor(r1 * cardinality(
                   CAST(:categories AS int[])))::int],
               :low + floor(random() * :span)::int, :queue,
               CASE WHEN r2 < 0.2 THEN (CAST(:departments AS int[]))[1 + floor(r3 *
                    cardinality(CAST(:departments AS int[])))::int] END,
               (CAST(:guides AS int[]))[1 + floor(r5 * cardinality(CAST(:guides AS int[])))::int],
               received, CASE WHEN r6 < :replied THEN received + make_interval(
                    mins => floor(CASE WHEN r7 < 0.6 THEN r8 * 240 ELSE r8 * 5000 END)::int)
               END,
               CASE WHEN r4 < 0.85 THEN received
                    + make_interval(hours => 1 + floor(r3 * 300)::int) END,
               r5 < 0.6, received, 1
        FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
                     random() r6, random() r7, random() r8,
                     ((CAST(:day_list AS date[]))[1 + floor(random() * cardinality(
                         CAST(:day_list AS date[])))::int]
                      + make_interval(secs => :hour0 * 3600 + random() * :hours * 3600))
                     AT TIME ZONE 'Europe/Stockholm' AS received
              FROM generate_series(1, :n) g) s"""
    started = time.perf_counter()
    for prefix, channel, n, day_list, hour0, hours, replied, queue in (
            ("e", "email", emails, days, 0, 24, 0.92, queues["epost"]),
            ("p", "phone", calls // 5, open_days, 8, 9, 0.0, queues["kontaktcenter"])):
        _insert_select(session, Case.__table__, case_columns, case_select,
                       {**common, "prefix": prefix, "channel": channel, "n": n,
                        "day_list": day_list, "hour0": hour0, "hours": hours,
                        "replied": replied, "queue": queue})
    session.execute(text("""
        INSERT INTO calls (source, call_id, queue, outcome, exit_reason, entered_at, wait_s,
                           talk_s, hold_s, acw_s, transferred, ring_no_answer_count,
                           callback_requested, local_date, local_hour, agent_user_id, case_id,
                           updated_at)
        SELECT 'bench', 'b-' || g, (ARRAY['kontaktcenter','kontaktcenter','bygglov','skola'])
                   [1 + floor(r1 * 4)::int],
               outcome, CASE WHEN outcome = 'exited' THEN 'timeout' END,
               lt AT TIME ZONE 'Europe/Stockholm', wait,
               CASE WHEN outcome = 'answered' THEN 30 + floor(r5 * 600) END,
               CASE WHEN outcome = 'answered' AND r6 < 0.3 THEN floor(r6 * 100) END,
               CASE WHEN outcome = 'answered' THEN floor(r7 * 120) END,
               outcome = 'answered' AND r8 < 0.12, 0, false, lt::date,
               extract(hour FROM lt)::int,
               CASE WHEN outcome = 'answered' THEN (CAST(:guides AS int[]))
                   [1 + floor(r3 * cardinality(CAST(:guides AS int[])))::int] END,
               CASE WHEN g % 5 = 0 THEN md5('p' || (g / 5))::uuid END,
               lt AT TIME ZONE 'Europe/Stockholm'
        FROM (SELECT g, r1, r3, r5, r6, r7, r8, lt,
                     CASE WHEN r2 < 0.74 THEN 'answered' WHEN r2 < 0.90 THEN 'abandoned'
                          ELSE 'exited' END AS outcome,
                     floor(r4 * r4 * 600)::float AS wait
              FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
                           random() r6, random() r7, random() r8,
                           (CAST(:open_days AS date[]))[1 + floor(random() *
                               cardinality(CAST(:open_days AS date[])))::int]
                           + make_interval(secs => 8 * 3600 + random() * 9 * 3600) AS lt
                    FROM generate_series(1, :n) g) a) b"""),
        {"guides": guides, "open_days": open_days, "n": calls})
    session.execute(text("""
        INSERT INTO feedback_requests (case_id, channel, nonce, via, created_at, expires_at,
                                       used_at, sent_at)
        SELECT id, channel, 'bench-' || left(md5(id::text), 26), 'email', received_at,
               received_at + interval '14 days', received_at, received_at
        FROM cases WHERE reference LIKE 'BEN-%' AND random() < 0.08"""))
    session.execute(text("""
        INSERT INTO feedback_responses (request_id, case_id, channel, courtesy, ease, clarity,
                                        submitted_at)
        SELECT id, case_id, channel, 1 + floor(random() * 5)::int, 1 + floor(random() * 5)::int,
               1 + floor(random() * 5)::int, created_at + interval '1 day'
        FROM feedback_requests WHERE nonce LIKE 'bench-%'"""))
    session.commit()
    for table in ("calls", "cases", "contacts", "feedback_requests", "feedback_responses"):
        session.execute(text(f"ANALYZE {table}"))
    session.commit()
    counts = dict(session.execute(text(
        "SELECT 'calls', count(*) FROM calls WHERE source = 'bench' UNION ALL "
        "SELECT channel, count(*) FROM cases WHERE reference LIKE 'BEN-%' GROUP BY channel "
        "UNION ALL SELECT 'feedback', count(*) FROM feedback_responses")).all())
    return {"generate_s": round(time.perf_counter() - started, 1), **counts}


def fifteen_minutes(session, calls: int, emails: int, replies: int) -> None:
    """A busy quarter hour: new calls and e-mails, replies to waiting e-mails, answers."""
    now = datetime.now(UTC)
    session.execute(text("""
        INSERT INTO calls (source, call_id, queue, outcome, entered_at, wait_s, talk_s,
                           transferred, ring_no_answer_count, callback_requested, local_date,
                           local_hour, updated_at)
        SELECT 'bench', 'now-' || :tag || '-' || g, 'kontaktcenter',
               CASE WHEN random() < 0.8 THEN 'answered' ELSE 'abandoned' END,
               :now - make_interval(secs => random() * 900), floor(random() * 200),
               floor(random() * 400), random() < 0.1, 0, false,
               (:now AT TIME ZONE 'Europe/Stockholm')::date,
               extract(hour FROM :now AT TIME ZONE 'Europe/Stockholm')::int, :now
        FROM generate_series(1, :n) g"""), {"n": calls, "now": now, "tag": uuid.uuid4().hex})
    session.execute(text("""
        UPDATE cases SET first_response_at = :now, updated_at = :now
        WHERE id IN (SELECT id FROM cases WHERE reference LIKE 'BEN-e%'
                     AND first_response_at IS NULL LIMIT :n)"""),
                    {"now": now, "n": replies})
    session.commit()
    app_session_cases = [Case(channel="email", subject="Ny fråga", received_at=now,
                              reference=f"BEN-n{uuid.uuid4().hex[:12]}")
                         for _ in range(emails)]
    session.add_all(app_session_cases)
    session.commit()


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse rows of an earlier run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgresql"):
        parser.error("give a PostgreSQL --database-url (or DATABASE_URL)")
    if not args.keep:
        reset_schema(args.database_url)
    upgrade_database(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url,
                      "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
                      "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1")})
    figures: dict = {}
    with app.app_context():
        session = db.session
        demo.seed(session)
        if not args.keep:
            figures["data"] = generate(session, args.year, args.calls, args.emails)
        started = time.perf_counter()
        full = reports.refresh_rollups(session, app.config, rebuild=not args.keep)
        figures["full_refresh_s"] = round(time.perf_counter() - started, 1)
        figures["full_refresh"] = full.summary()
        session.commit()
        with db.make_engine(args.database_url).connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            for table in ("report_facts", "rollup_cells", "rollup_days"):
                conn.execute(text(f"VACUUM ANALYZE {table}"))
        figures["rows"] = dict(session.execute(text(
            "SELECT 'report_facts', count(*) FROM report_facts UNION ALL "
            "SELECT 'rollup_cells', count(*) FROM rollup_cells UNION ALL "
            "SELECT 'rollup_days', count(*) FROM rollup_days")).all())

        report_settings = reports.report_settings(app.config)
        start = datetime.fromisoformat(f"{args.year}-01-01T00:00:00+01:00")
        end = datetime.fromisoformat(f"{args.year + 1}-01-01T00:00:00+01:00")
        ragged = (start + timedelta(hours=9, minutes=15), end - timedelta(hours=7, minutes=45))

        def report(lo=start, hi=end, **kw):
            out = reports.service_measurement(session, lo, hi, report_settings, **kw)
            session.rollback()
            return out

        report()  # warm up
        cases = {
            "year": lambda: report(),
            "year, ragged edges": lambda: report(*ragged),
            "year, queue bygglov": lambda: report(queue="bygglov"),
            "year by month": lambda: report(interval="month"),
            "one day by 15 min": lambda: report(start + timedelta(days=100),
                                                start + timedelta(days=101), interval="15min"),
        }
        client = app.test_client()
        from citizencenter.accounts import service as accounts
        token = accounts.create_token(session, "report bench", role="supervisor")[1]
        cases["year over HTTP (JSON)"] = lambda: client.get(
            f"/api/v1/reports/service-measurement?from={args.year}-01-01&to={args.year + 1}"
            "-01-01", headers={"Authorization": f"Bearer {token}"})
        latency = {}
        for name, fn in cases.items():
            times, _ = timed(fn, args.repeat)
            latency[name] = {"median_ms": round(statistics.median(times), 1),
                             "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))], 1)}
        figures["report_latency"] = latency
        year = report()
        figures["year_phone_service_level_120"] = year["phone"]["service_level_120"]["value"]
        figures["year_email_answered_within_24h"] = year["email"]["answered_within_24h"]["value"]

        reports.refresh_rollups(session, app.config)  # settle the overlap window
        incremental = []
        for _ in range(3):
            fifteen_minutes(session, calls=120, emails=40, replies=35)
            started = time.perf_counter()
            result = reports.refresh_rollups(session, app.config)
            incremental.append({"ms": round((time.perf_counter() - started) * 1000, 1),
                                **result.summary()})
        figures["incremental_refresh"] = incremental
    print(f"{'measure':<36}{'value':>16}")
    for name, value in figures.items():
        if isinstance(value, dict) and name == "report_latency":
            for case_name, t in value.items():
                print(f"{'report: ' + case_name:<36}{t['median_ms']:>9} ms median, "
                      f"p95 {t['p95_ms']} ms")
        elif isinstance(value, list):
            for n, item in enumerate(value, 1):
                print(f"{f'incremental refresh {n}':<36}{item['ms']:>9} ms  {item}")
        else:
            print(f"{name:<36}{json.dumps(value, default=str):>16}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
