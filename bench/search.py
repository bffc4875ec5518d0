"""Search benchmark: Swedish full-text search over knowledge articles and over cases.

On a PostgreSQL database of its own (created, migrated and seeded with the demo data
here, then dropped unless --keep): 10,000 generated Swedish articles and 100,000 cases with
their conversations and notes, seeded with bulk SQL (not through the API). Then times the
service calls the API makes, in process, for a rotation of Swedish queries (inflections,
compounds, missing diacritics): `knowledge.service.search_articles` as a guide, and
`cases.service.list_cases(q=…)` (a page of 50, ranked, with snippets) as a guide and as
department staff. Goals: p99 <= 30 ms (articles) and <= 100 ms (cases).

    .venv/bin/python bench/run.py --only search
    .venv/bin/python bench/search.py [--articles 10000] [--cases 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

ARTICLES_P99_MS = 30.0
CASES_P99_MS = 100.0
ADMIN_URL = "postgresql+psycopg://citizencenter:citizencenter@127.0.0.1:5432/postgres"

# Topics as a municipality writes them, each a title and a few sentences; the generator
# varies place, year and wording so no two articles are the same.
TOPICS = [
    ("Bygglov för altan och uterum", "Du behöver bygglov om altanen är högre än 1,8 meter. "
     "Skicka in ansökan om bygglov med ritningar och situationsplan."),
    ("Förskoleplats och kö", "Ansök om förskoleplats i e-tjänsten fyra månader innan. "
     "Förskoleplatser erbjuds i första hand nära hemmet."),
    ("Sophämtning och avfall", "Sophämtningen sker varannan vecka. Grovavfall lämnas på "
     "återvinningscentralen."),
    ("Parkeringstillstånd för rörelsehindrade", "Ansökan om parkeringstillstånd görs hos "
     "kommunen med läkarintyg."),
    ("Ekonomiskt bistånd", "Försörjningsstöd söks hos socialtjänsten. Ta med kontoutdrag."),
    ("Gatubelysning och felanmälan", "Trasig gatubelysning felanmäls i appen eller till "
     "kontaktcenter."),
    ("Färdtjänst", "Färdtjänsttillstånd beviljas efter ansökan och utredning."),
    ("Skolskjuts", "Elever som bor långt från skolan kan få skolskjuts."),
    ("Strandskyddsdispens", "Att bygga inom strandskyddat område kräver dispens."),
    ("Bostadsanpassningsbidrag", "Bidrag för att anpassa bostaden söks med intyg."),
    ("Hemtjänst", "Hemtjänst beviljas efter en biståndsbedömning."),
    ("Vatten och avlopp", "Fakturan för vatten och avlopp skickas kvartalsvis."),
]
PLACES = ["Lund", "Dalby", "Genarp", "Veberöd", "Södra Sandby", "Stångby", "Linero",
          "Norra Fäladen", "Klostergården", "Torna Hällestad"]
# Case subjects, messages and notes as citizens and guides write them.
SUBJECTS = ["Bygglov för carport", "Plats i förskola till hösten", "Missad sophämtning",
            "Ansökan om parkeringstillstånd", "Trasig gatubelysning", "Snöröjning på vår gata",
            "Faktura för vatten och avlopp", "Buller från granne", "Färdtjänst till sjukhuset",
            "Hemtjänst för min mamma", "Klotter på busskur", "Lekplatsen är trasig"]
MESSAGES = ["Hej! Jag undrar hur lång tid handläggningen av bygglovsansökan tar.",
            "Vi har fått besked om förskoleplatsen men vill byta till en annan förskola.",
            "Soporna har inte hämtats på två veckor, kärlet är överfullt.",
            "Jag behöver ett parkeringstillstånd eftersom jag har svårt att gå.",
            "Lampan i gatlyktan utanför vårt hus har varit släckt i en månad.",
            "Fakturan är dubbelt så hög som förra kvartalet, kan ni kontrollera mätaren?",
            "Grannen spelar hög musik varje natt, vad kan kommunen göra?",
            "Min mamma behöver hjälp med inköp och städning hemma."]
NOTES = ["Ringde upp medborgaren, lovade återkoppling inom en vecka.",
         "Vidarebefordrat till stadsbyggnadskontoret för bedömning.",
         "Kontrollerat i verksamhetssystemet, ärendet ligger hos handläggare.",
         "Medborgaren nöjd med svaret, inget mer att göra."]
QUERIES = ["bygglov", "bygglovsansökan", "förskoleplatser", "forskola", "sophamtning",
           "parkeringstillstånd", "gatubelysning", "faktura vatten", "hemtjänst", "färdtjänst",
           "Dalby bygglov", "grovavfall", "strandskydd", "snöröjning", "buller granne"]


def _pg_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def create_database(name: str) -> str:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER citizencenter'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed_articles(engine, count: int) -> float:
    """`count` articles in every department, folded for search as the service does it."""
    from citizencenter.swedish import folded

    started = time.monotonic()
    with engine.begin() as conn:
        departments = conn.execute(text("SELECT id FROM departments ORDER BY id")).scalars().all()
        rows = []
        for n in range(count):
            title, body = TOPICS[n % len(TOPICS)]
            place = PLACES[(n // len(TOPICS)) % len(PLACES)]
            title = f"{title} i {place} ({n})"
            body = f"{body} Gäller {place} från {2020 + n % 7}. Artikel nummer {n}."
            rows.append({"title": title, "body": body, "html": f"<p>{body}</p>",
                         "department": departments[n % len(departments)],
                         "audience": "internal" if n % 3 else "public",
                         "search_title": folded(title), "search_body": folded(body)})
        conn.execute(text(
            "INSERT INTO knowledge_articles (title, body, body_html, department_id, audience, "
            " tags, review_interval_months, reviewed_at, review_due_at, version, created_at, "
            " updated_at, updated_by, search_title, search_body) VALUES (:title, :body, :html, "
            " :department, :audience, '[]', 12, now(), now() + interval '1 year', 1, now(), "
            " now(), 'bench', :search_title, :search_body)"), rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE knowledge_articles"))
    return time.monotonic() - started


def seed_cases(engine, count: int) -> float:
    """`count` cases (bench/listing.py's seeding, with this benchmark's subjects) and their
    search documents: the folded subject, one or two messages and a note, as cases.search
    writes them (`listing.write_documents`)."""
    import listing

    started = time.monotonic()
    listing.seed(engine, count, documents=False)
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE cases SET subject = s.subject FROM (SELECT id, "
            f" ({_pg_array(SUBJECTS)})[1 + (row_number() OVER (ORDER BY id))::int "
            f"   % {len(SUBJECTS)}] AS subject FROM cases) AS s "
            "WHERE cases.id = s.id"))
    listing.write_documents(engine, MESSAGES, NOTES)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cases"))
    return time.monotonic() - started


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2)}


def measure(engine, rounds: int) -> dict:
    from citizencenter.accounts.models import User
    from citizencenter.accounts.service import ROLE_SCOPES, Principal
    from citizencenter.cases import service as cases
    from citizencenter.knowledge import service as knowledge
    from citizencenter.pagination import Paginator

    paginator = Paginator(secrets.token_hex(16), 3600, 50, 100)
    timings = {"articles": [], "cases_guide": [], "cases_department": []}
    with Session(engine) as session:
        def principal(email: str) -> Principal:
            user = session.scalar(select(User).where(User.email == email))
            return Principal(actor=f"user:{user.id}", scopes=ROLE_SCOPES[user.role],
                             role=user.role, user_id=user.id,
                             department_id=user.department_id)
        guide = principal("anna.lindqvist@lund.example")
        department = principal("johan.berg@lund.example")
        for q in QUERIES:  # warm the caches and the plans once
            knowledge.search_articles(session, guide, q)
            cases.list_cases(session, guide, paginator, limit=50, q=q)
            session.rollback()
        for _ in range(rounds):
            for q in QUERIES:
                for key, call in (
                        ("articles", lambda q=q: knowledge.search_articles(session, guide, q)),
                        ("cases_guide", lambda q=q: cases.list_cases(
                            session, guide, paginator, limit=50, q=q)),
                        ("cases_department", lambda q=q: cases.list_cases(
                            session, department, paginator, limit=50, q=q))):
                    started = time.perf_counter()
                    call()
                    timings[key].append((time.perf_counter() - started) * 1000)
                    session.rollback()
    return {key: _percentiles(values) for key, values in timings.items()}


def render(report: dict) -> list[str]:
    rows = [f"search: {report['articles']} articles, {report['cases']} cases "
            f"(seeded in {report['seed_s']:g} s), {len(QUERIES)} Swedish queries x "
            f"{report['rounds']} rounds, in process, PostgreSQL",
            f"{'search':<34}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}  goal"]
    for key, label, goal in (("articles", "knowledge articles (guide)", ARTICLES_P99_MS),
                             ("cases_guide", "cases ?q=, page of 50 (guide)", CASES_P99_MS),
                             ("cases_department", "cases ?q=, page of 50 (department)",
                              CASES_P99_MS)):
        row = report["timings"][key]
        rows.append(f"{label:<34}{row['n']:>6}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}  "
                    f"p99 <= {goal:g} ms {'met' if row['p99_ms'] <= goal else 'missed'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "search.json"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    name = f"citizencenter_bench_search_{secrets.token_hex(3)}"
    url = create_database(name)
    try:
        from citizencenter import connect_domains
        from citizencenter.cli import upgrade_database
        from citizencenter.db import make_engine
        from citizencenter.demo import seed as seed_demo

        upgrade_database(url)
        engine = make_engine(url)
        connect_domains()  # the case services publish to the domains, as in the app
        with Session(engine) as session:
            seed_demo(session)
            session.commit()
        seeded = seed_articles(engine, args.articles) + seed_cases(engine, args.cases)
        report = {"articles": args.articles, "cases": args.cases, "rounds": args.rounds,
                  "seed_s": round(seeded, 1), "timings": measure(engine, args.rounds)}
        engine.dispose()
    finally:
        if not args.keep:
            drop_database(name)
    print("\n".join(render(report)))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
