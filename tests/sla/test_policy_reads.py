"""Matching SLA policies on intake: one read per transaction, no flush, nothing missed."""

import contextlib
import uuid

from sqlalchemy import event, select

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Channel, Priority
from citizencenter.routing import service as routing
from citizencenter.sla import policies
from citizencenter.sla.enums import Metric, TargetUnit
from citizencenter.sla.models import SlaPolicy, SlaTimer
from tests.factories import create_case


@contextlib.contextmanager
def statements(engine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_an_intake_leaves_the_timers_to_the_worker_which_reads_the_policies_once(
        client, tokens, engine, session, worker_starts_timers):
    create_case(client, tokens["guide"])  # the reference sequence exists from now on
    with statements(engine) as seen:
        created = uuid.UUID(create_case(client, tokens["guide"])["id"])
    assert not [s for s in seen if any(  # no policy, calendar, timer or ledger SQL
        table in s for table in ("sla_policies", "sla_calendar", "sla_timers", "sla_ledger"))]
    assert not session.scalars(select(SlaTimer).where(
        SlaTimer.case_id == created)).all()  # read before the worker: no timers yet
    for _ in range(3):
        create_case(client, tokens["guide"])
    with statements(engine) as seen:
        routing.route_pending(session)
    policy_reads = [s for s in seen if s.startswith("SELECT") and "FROM sla_policies" in s]
    timer_inserts = [s for s in seen if s.startswith("INSERT INTO sla_timers")]
    assert len(policy_reads) == 1, policy_reads  # once for the whole batch
    if engine.dialect.name == "postgresql":  # SQLite inserts rows it needs ids of one by one
        assert len(timer_inserts) == 1, timer_inserts
    assert session.scalars(select(SlaTimer).where(SlaTimer.case_id == created)).all()


def test_a_policy_added_in_the_same_transaction_is_matched(session):
    def open_social():
        return cases_service.add_case(session, SYSTEM, channel=Channel.SOCIAL,
                                      subject="Hej", description="Fråga")

    first = open_social()
    assert policies.matching_policies(session, first, Metric.FIRST_RESPONSE)  # read and kept
    session.add(SlaPolicy(slug="messenger-added-later", name="Added later",
                          metric=Metric.FIRST_RESPONSE, channel=Channel.SOCIAL,
                          priority=Priority.NORMAL, target_value=7,
                          target_unit=TargetUnit.HOURS))
    second = open_social()
    started = session.scalars(select(SlaPolicy.slug).join(SlaTimer)
                              .where(SlaTimer.case_id == second.id)).all()
    assert "messenger-added-later" in started


def test_a_policy_switched_off_in_the_same_transaction_no_longer_matches(session):
    case = cases_service.add_case(session, SYSTEM, channel=Channel.EMAIL, subject="Hej",
                                  description="Fråga")
    matched = policies.matching_policies(session, case, Metric.FIRST_RESPONSE)
    assert matched
    for policy in matched:
        policy.active = False  # not flushed: the kept read still sees it
    assert all(p not in policies.matching_policies(session, case, Metric.FIRST_RESPONSE)
               for p in matched)
