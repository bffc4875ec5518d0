"""Counting what a guide holds reads their open cases only, not every case they ever held.

routing/decide counts each free guide's open phone cases while the caller hears ringing,
and routing counts every candidate's load. A guide holds thousands of closed cases after
a year; on the assignee alone, both reads went through all of them.
"""

from sqlalchemy import event, select, update

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.channels.phone.models import PbxAgent
from citizencenter.db import is_postgresql
from citizencenter.organisation.models import Queue
from citizencenter.routing import assignment
from citizencenter.routing.models import GuideProfile, Presence
from citizencenter.routing.service import decide_call
from tests.workspace.conftest import add_case

INDEX = "ix_cases_assignee_status_channel"


def _statements_on_cases(session, action) -> list[tuple[str, object]]:
    seen = []

    def note(_conn, _cursor, statement, parameters, *_args):
        if "FROM cases" in " ".join(statement.split()) and statement.lstrip().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert seen, "no read of cases"
    return seen


def _plan(session, statement: str, parameters) -> str:
    connection = session.connection()
    connection.exec_driver_sql("ANALYZE cases")
    if is_postgresql(session):
        # A few rows make any plan cheap: ask what the planner does at a year's cases.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters))
    return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(
        "EXPLAIN QUERY PLAN " + statement, parameters))


def _assert_reads_open_cases_only(session, plan: str) -> None:
    assert INDEX in plan, plan
    if is_postgresql(session):
        # Every closed case read and thrown away would show as a filtered row.
        assert "Rows Removed by Filter" not in plan.split(INDEX, 1)[1], plan
    else:
        assert f"{INDEX} (assignee_id=? AND status=?" in plan, plan


def _guide_with_history(session, guide, closed: int = 60, waiting: int = 200):
    """The one free guide, with `closed` closed cases on each of phone and e-mail, and
    `waiting` open cases of the queues held by nobody: the shape of a centre's data, on
    which the planner's choice is the one it makes in service."""
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    profile = guide(skills={}, capacities={"email": 5, "phone": 1})
    session.add(PbxAgent(agent_id="SIP/701", user_id=profile.user_id))
    for channel in ("phone", "email"):
        for _ in range(closed):
            add_case(session, channel=channel, status="closed", assignee_id=profile.user_id)
        for _ in range(waiting // 2):
            add_case(session, channel=channel, status="new")
    session.commit()
    return profile


def test_decide_counts_a_guides_open_phone_cases_from_the_index(session, guide):
    profile = _guide_with_history(session, guide)
    queue = session.scalar(select(Queue.slug).where(Queue.department_id.is_(None)).limit(1))
    answers = []
    reads = _statements_on_cases(
        session, lambda: answers.append(decide_call(session, "+4646355009", queue)))
    # Closed calls take no capacity: the guide is rung.
    assert answers[0].user_id == profile.user_id
    for statement, parameters in reads:
        _assert_reads_open_cases_only(session, _plan(session, statement, parameters))
    session.rollback()
    # One open call fills the guide's phone capacity of 1.
    cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Samtal",
                    description="Hej", contact={"phone": "+4646355010"},
                    assignee_id=profile.user_id)
    session.commit()
    assert decide_call(session, "+4646355009", queue).reason == "none_available"


def test_routing_counts_a_guides_load_from_the_index(session, guide):
    profile = _guide_with_history(session, guide)
    add_case(session, channel="email", status="open", assignee_id=profile.user_id)
    session.commit()
    loads = {}
    reads = _statements_on_cases(
        session, lambda: loads.update(assignment.loads(session, [profile.user_id])))
    assert loads == {profile.user_id: {"email": 1}}
    for statement, parameters in reads:
        _assert_reads_open_cases_only(session, _plan(session, statement, parameters))
