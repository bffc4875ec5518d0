"""Matching SLA policies on intake: none read while kept, no flush, nothing missed."""

import contextlib

from sqlalchemy import event, select

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases_service
from citizencenter.cases.enums import Channel, Priority
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


def test_an_intake_reads_the_policies_once_and_writes_its_timers_together(
        client, tokens, engine):
    create_case(client, tokens["guide"])  # the reference sequence exists from now on
    with statements(engine) as seen:
        create_case(client, tokens["guide"])
    policy_reads = [s for s in seen if s.startswith("SELECT") and "FROM sla_policies" in s]
    timer_inserts = [s for s in seen if s.startswith("INSERT INTO sla_timers")]
    assert policy_reads == [], policy_reads  # kept in the process since the first intake
    if engine.dialect.name == "postgresql":  # SQLite inserts rows it needs ids of one by one
        assert len(timer_inserts) == 1, timer_inserts


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
