"""The case list's query plan: a queue's open cases come from one index, in order."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.cases.models import Case
from citizencenter.cases.service import listing_query
from citizencenter.organisation.models import Queue

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
    if dialect.name == "postgresql":
        # A handful of rows makes any plan cheap: ask what the planner does when the
        # table is too large to read whole, as at 100,000 cases.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
    session.execute(text("ANALYZE"))
    return "\n".join(row[3] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))


def test_a_queues_open_cases_are_read_in_index_order_without_a_sort(session):
    _seed(session)
    plan = _plan(session, queue=QUEUE, status="open")
    assert "ix_cases_queue_status_received" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_page_joins_only_what_it_shows(session):
    """The departments of a case's queue, category and assignee are not on the page."""
    sql = str(listing_query(SUPERVISOR, queue=QUEUE, status="open", q="bygglov")
              .compile(dialect=session.get_bind().dialect))
    assert sql.count("JOIN departments") == 1, sql
