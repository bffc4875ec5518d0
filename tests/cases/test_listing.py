"""The case list's query plan: a queue's open cases come from one index, in order."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert, select, text

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.cases.models import Case
from citizencenter.cases.service import listing_query
from citizencenter.organisation.models import Queue
from tests.factories import bearer, create_case

QUEUE = "kontaktcenter"
SUPERVISOR = Principal(actor="user:1", role=Role.SUPERVISOR, scopes=frozenset())


def _seed(session, count: int = 400) -> None:
    queue_id = session.scalar(select(Queue.id).where(Queue.slug == QUEUE))
    now = datetime.now(UTC)
    session.execute(insert(Case), [
        {"id": uuid.uuid4(), "reference": f"MC-2001-{n:06d}", "channel": "email",
         "status": ("open", "closed", "new")[n % 3], "subject": f"Bygglov {n}",
         "queue_id": queue_id, "received_at": now - timedelta(minutes=n),
         "updated_at": now, "required_skills": []}
        for n in range(count)])
    session.flush()


def _plan(session, **filters) -> str:
    """The database's plan for one page of the list, as `list_cases` asks for it."""
    query = listing_query(SUPERVISOR, **filters) \
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(51)
    dialect = session.get_bind().dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    session.execute(text("ANALYZE cases"))
    if dialect.name == "postgresql":
        # A few hundred rows make any plan cheap: ask what the planner does when the
        # table is too large to read whole, as at 100,000 cases.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
    return "\n".join(row[3] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))


def test_a_queues_open_cases_are_read_in_index_order_without_a_sort(session):
    _seed(session)
    plan = _plan(session, queue=QUEUE, status="open")
    assert "ix_cases_queue_status_received" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_page_is_read_from_cases_alone(session):
    """Every join makes PostgreSQL's planner slower than the page's whole execution."""
    sql = str(listing_query(SUPERVISOR, queue=QUEUE, status="open", q="bygglov")
              .compile(dialect=session.get_bind().dialect))
    assert " JOIN " not in sql, sql


def test_a_page_shows_its_related_rows_in_a_few_statements(client, tokens, session, engine):
    token = tokens["supervisor"]
    for n in range(12):
        create_case(client, token, channel="email", subject=f"Bygglov {n}",
                    contact={"email": f"invanare{n}@example.se"})
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = client.get("/api/v1/cases?channel=email&limit=50",
                          headers=bearer(token)).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(page["items"]) >= 12
    assert all(item["contact"]["email"] for item in page["items"][:12])
    # Authentication, the page, then one query per relation shown, not one per row.
    assert len(statements) <= 8, statements
