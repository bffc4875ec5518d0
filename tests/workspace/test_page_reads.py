"""What "Mina ärenden" reads per render: the guide's queues once, the header's count from an
index of the waiting cases alone, the presence without a statement of its own."""

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, text

from citizencenter.cases import service as cases
from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.db import is_postgresql, utcnow
from citizencenter.routing import presence
from citizencenter.routing.models import GuideProfile
from citizencenter.workspace import service as workspace
from tests.workspace.conftest import add_case, add_user, principal, queue_id


@contextmanager
def statements(session):
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _waiting(session, queue: str, **fields):
    return add_case(session, minutes_ago=5, queue_id=queue_id(session, queue),
                    waiting_since=utcnow() - timedelta(minutes=5), **fields)


def test_a_render_reads_the_guides_profile_once(session, paginator):
    me = add_user(session, queues=["sociala-medier"])
    _waiting(session, "sociala-medier")
    session.commit()
    actor = principal(me)
    with statements(session) as seen:
        page = workspace.worklist(session, actor, paginator)
        count = workspace.waiting_count(session, actor)
        shown = presence.presence_of(session, me.id)
    assert len(page.items) == 1 and count == 1
    assert shown == session.get(GuideProfile, me.id).presence
    assert len([s for s in seen if "FROM guide_profiles" in s]) == 1, seen


def test_the_queues_are_read_again_in_the_next_transaction(session):
    me = add_user(session, queues=["sociala-medier"])
    _waiting(session, "sociala-medier")
    _waiting(session, "epost")
    session.commit()
    actor = principal(me)
    assert workspace.waiting_count(session, actor) == 1
    session.get(GuideProfile, me.id).queue_ids = [queue_id(session, "sociala-medier"),
                                                  queue_id(session, "epost")]
    session.commit()
    assert workspace.waiting_count(session, actor) == 2


def test_the_waiting_count_can_be_answered_from_its_index_alone(session):
    me = add_user(session, queues=["sociala-medier"])
    for _ in range(200):  # the queue's history: far more cases than wait in it
        add_case(session, queue_id=queue_id(session, "sociala-medier"), status="closed")
    session.commit()
    actor = principal(me)
    query = cases.visible_cases(actor).with_only_columns(func.count()) \
        .where(workspace._waiting(session, actor))
    compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    session.execute(text("ANALYZE cases"))
    if is_postgresql(session):
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
        assert "Index Only Scan using ix_cases_waiting_queue" in plan, plan
    else:
        plan = "\n".join(str(row[-1]) for row in session.execute(
            text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_cases_waiting_queue" in plan, plan
    session.rollback()


def test_the_list_reads_its_rows_as_columns_with_the_citizens_name(session, paginator):
    me = add_user(session, queues=["sociala-medier"])
    karin = Contact(name="Karin Holm")
    session.add(karin)
    session.flush()
    _waiting(session, "sociala-medier", assignee_id=None, contact_id=karin.id)
    add_case(session, minutes_ago=3, assignee_id=me.id, status="open")
    session.commit()
    with statements(session) as seen:
        page = workspace.worklist(session, principal(me), paginator)
    assert [item.case.contact_name for item in page.items] == [None, "Karin Holm"]
    assert not any(isinstance(item.case, Case) for item in page.items)
    read = " ".join(seen)
    for table in ("contacts", "queues", "categories", "users", "departments", "service_points"):
        assert f"FROM {table} WHERE {table}.id IN" not in read, seen
        assert f"JOIN {table} " not in read, seen
    # The rows come in one statement per part (with a clock, without), nothing after them.
    assert len([s for s in seen if "FROM cases" in s]) == 2, seen


def test_protected_contacts_cases_are_left_out_by_their_ids(session, paginator):
    me = add_user(session, queues=["sociala-medier"])
    hidden = Contact(name="Skyddad person", protection="sekretessmarkering")
    session.add(hidden)
    session.flush()
    _waiting(session, "sociala-medier", contact_id=hidden.id)
    shown = _waiting(session, "sociala-medier")
    session.commit()
    actor = principal(me)
    with statements(session) as seen:
        page = workspace.worklist(session, actor, paginator)
        count = workspace.waiting_count(session, actor)
    assert [item.case.id for item in page.items] == [shown] and count == 1
    # The ids are read once, first; the list and the count carry them as a plain list (a
    # subquery there turned the list's plan into a join of every waiting case).
    assert len([s for s in seen if "contacts.protection IS NOT NULL" in s]) == 1, seen
    assert not any("contacts.protection" in s for s in seen if "FROM cases" in s), seen
