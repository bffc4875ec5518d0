"""The case list's query plan: a queue's open cases come from one index, in order."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert, select, text

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.cases.models import Case
from citizencenter.cases.service import LIST_COLUMNS, listing_query
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
    query = listing_query(SUPERVISOR, columns=LIST_COLUMNS, **filters) \
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
    sql = str(listing_query(SUPERVISOR, columns=LIST_COLUMNS, queue=QUEUE, status="open",
                            q="bygglov").compile(dialect=session.get_bind().dialect))
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


def test_the_list_dump_unpacks_the_columns_the_list_selects():
    from citizencenter.cases.schemas import LIST_ITEM_COLUMNS

    assert tuple(select(*LIST_COLUMNS).selected_columns.keys()) == LIST_ITEM_COLUMNS


def _vary(session, case_ids: list[str]) -> None:
    """Give the listed cases every shape a list item can take."""
    from citizencenter.accounts.models import Department, User
    from citizencenter.cases.enums import CaseStatus, Priority
    from citizencenter.organisation.models import ServicePoint

    department = Department(slug="miljo-lista", name="Miljö")
    point = ServicePoint(slug="stadshuset-lista", name="Stadshuset")
    session.add_all([department, point])
    session.flush()
    guide = session.scalar(select(User).where(User.role == Role.GUIDE))
    moment = datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=UTC)
    changes = [
        {"assignee_id": guide.id, "status": CaseStatus.OPEN, "routed_at": moment,
         "first_response_at": moment + timedelta(minutes=3), "priority": Priority.HIGH},
        {"department_id": department.id, "status": CaseStatus.FORWARDED, "category_id": None},
        {"service_point_id": point.id, "status": CaseStatus.RESOLVED, "resolved_at": moment,
         "resolved_at_first_contact": True, "contact_id": None},
        {"status": CaseStatus.CLOSED, "resolved_at": moment, "closed_at": moment,
         "version": 7, "queue_id": None},
    ]
    for case_id, values in zip(case_ids, changes, strict=False):
        case = session.get(Case, uuid.UUID(case_id))
        for name, value in values.items():
            setattr(case, name, value)
    session.commit()


def test_the_list_answers_the_case_schemas_dump_byte_for_byte(client, tokens, session, app):
    """The list's own dump (no marshmallow per row) must not change a byte of the answer."""
    from flask import jsonify

    from citizencenter.cases.schemas import CasePageSchema
    from citizencenter.pagination import Page

    token = tokens["supervisor"]
    created = [
        create_case(client, token, subject="Bygglov för altan – Dalby \"söder\" ✓",
                    contact={"name": "Åsa Öberg", "email": "asa@example.se",
                             "phone": "046-35 50 00"}),
        create_case(client, token, channel="phone", subject="Ring tillbaka",
                    contact={"phone": "+46701234567"}),
        create_case(client, token, subject="Utan kategori", contact={"email": "u@example.se"}),
        create_case(client, token, subject="Ingen kontakt"),
        create_case(client, token, channel="webform", subject="Tidigare",
                    received_at="2026-01-02T03:04:05+01:00"),
        create_case(client, token, channel="social", subject="Sist i listan"),
    ]
    _vary(session, [case["id"] for case in created])
    pages, cursor = [], None
    while len(pages) < 10:
        url = "/api/v1/cases?limit=4" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200, response.get_json()
        pages.append(response)
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            break
    listed = [item["id"] for page in pages for item in page.get_json()["items"]]
    assert {case["id"] for case in created} <= set(listed)
    assert len(pages) > 1  # a next_cursor was dumped too
    session.expire_all()
    with app.test_request_context():
        for response in pages:
            body = response.get_json()
            cases = [session.get(Case, uuid.UUID(item["id"])) for item in body["items"]]
            expected = jsonify(CasePageSchema().dump(Page(cases, body["next_cursor"])))
            assert response.data == expected.data
