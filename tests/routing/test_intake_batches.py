"""The worker's side of intake: SLA timers started once, then routing in batches."""

from sqlalchemy import event, func, select, update

from citizencenter import reconciliation
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import service as routing
from citizencenter.routing.models import GuideProfile, Presence, RoutingDecision
from citizencenter.sla import service as sla_service
from citizencenter.sla.enums import LedgerEvent
from citizencenter.sla.models import SlaLedgerEntry, SlaTimer
from tests.test_reconciliation import NO_GRACE, _pending, _publish_all

SV = "Hej, jag har en fråga om min ansökan och vill veta hur det går."


def _idle_worker(session):
    """Nobody free and nothing left from earlier intakes (the demo's cases, say)."""
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()
    routing.route_pending(session)


def _open(session, **fields):
    return cases.open_case(session, SYSTEM, **{"channel": Channel.EMAIL, "subject": "Fråga",
                                               "description": SV, **fields})


def _timers(session, case) -> list[tuple]:
    return sorted(session.execute(select(SlaTimer.metric, SlaTimer.status, SlaTimer.due_at)
                                  .where(SlaTimer.case_id == case.id)).all())


def test_intake_leaves_the_timers_to_the_worker_which_starts_them_once(session):
    _idle_worker(session)
    case = _open(session)
    assert case.sla_started_at is None and _timers(session, case) == []
    assert routing.route_pending(session) == 1
    session.refresh(case)
    started = _timers(session, case)
    assert case.sla_started_at is not None and case.routed_at is not None and started
    # Computed from received_at, not from when the worker came.
    assert {t.started_at for t in session.scalars(
        select(SlaTimer).where(SlaTimer.case_id == case.id))} == {case.received_at}
    # Again, and again through every path: nothing more.
    assert routing.route_pending(session) == 0
    assert routing.route_case(session, case.id) is False
    assert sla_service.start_timers(session, [case]) == []
    stale = session.get(Case, case.id)
    stale.sla_started_at = None  # as a second process that read the case earlier sees it
    session.expunge(stale)
    assert sla_service.start_timers(session, [stale]) == []
    session.commit()
    assert _timers(session, case) == started
    assert session.scalar(select(func.count()).select_from(SlaLedgerEntry).where(
        SlaLedgerEntry.case_id == case.id, SlaLedgerEntry.event == LedgerEvent.STARTED)) \
        == len(started)


def test_a_case_changed_before_the_worker_came_gets_its_intake_timers_first(session):
    _idle_worker(session)
    early = _open(session)
    # Resolved at once: the timers start as at intake and are then finished by the change.
    cases.update_case(session, SYSTEM, early.id, early.version,
                      {"status": CaseStatus.RESOLVED})
    timers = _timers(session, early)
    assert timers and all(t.status.value in ("fulfilled", "stopped") for t in timers)
    routing.route_pending(session)
    assert _timers(session, early) == timers  # the worker starts nothing more


def test_the_worker_routes_a_batch_with_capacity_and_stickiness(session, guide):
    _idle_worker(session)
    karin = {"name": "Karin Ek", "email": "karin.batch@example.se"}
    first = _open(session, contact=karin)
    routing.route_pending(session)
    anna = guide(idle_for_s=1000, capacities={"email": 2})
    bo = guide(idle_for_s=500, capacities={"email": 2})
    session.execute(update(Case).where(Case.id == first.id).values(assignee_id=bo.user_id))
    session.commit()
    batch = [_open(session, contact=karin if n == 0 else None) for n in range(4)]
    assert routing.route_pending(session, batch_size=3) == 4  # two batches
    assignees = [session.get(Case, c.id).assignee_id for c in batch]
    # Karin's guide has room for one more: sticky. Then the longest idle with room.
    assert assignees == [bo.user_id, anna.user_id, anna.user_id, None]
    reasons = dict(session.execute(select(RoutingDecision.case_id, RoutingDecision.reason)
                                   .where(RoutingDecision.case_id.in_([c.id for c in batch]),
                                          RoutingDecision.kind.in_(["assigned", "waiting"])))
                   .all())
    assert [reasons[c.id] for c in batch] == ["sticky", "longest_idle", "longest_idle",
                                              "no_guide_free"]
    assert session.get(Case, batch[3].id).waiting_since is not None


def test_reconciliation_redrives_a_case_whose_timers_never_started(session, app):
    _idle_worker(session)
    case = _open(session)
    routing.route_pending(session)
    # As if the worker had routed it but its timers had been lost.
    session.execute(update(Case).where(Case.id == case.id).values(sla_started_at=None))
    session.execute(update(OutboxMessage).values(published_at=None)
                    .where(OutboxMessage.topic == "case.created"))
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert {"case_id": str(case.id)} in _pending(session, "case.created")


def test_a_batch_is_routed_in_the_same_few_statements_however_many_cases_it_holds(
        session, guide, engine):
    _idle_worker(session)
    guide(idle_for_s=100, capacities={"email": 50})
    guide(idle_for_s=50, capacities={"email": 50})
    counts = []
    for size in (2, 20):
        for n in range(size):
            _open(session, contact={"email": f"batch{size}.{n}@example.se"})
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args, seen=seen):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                seen.append(" ".join(statement.split()))

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert routing.route_pending(session) == size
        finally:
            event.remove(engine, "before_cursor_execute", record)
        counts.append(len(seen))
        # One marks the timers started, one writes the routed cases.
        assert len([s for s in seen if s.startswith("UPDATE cases")]) == 2, seen
    # Timers, their ledger, decisions and audit entries go as one insert each, on SQLite
    # too; the second batch may find policies cached.
    assert counts[1] <= counts[0] < 30, counts


def test_a_wake_up_tries_again_while_another_transaction_holds_its_case(
        routing_committed, engine):
    session = routing_committed
    _idle_worker(session)
    case = _open(session)
    if engine.dialect.name == "postgresql":  # SQLite has one writer: nothing is skipped
        with engine.connect() as other:  # a guide's change, say, holds the row
            other.execute(select(Case.id).where(Case.id == case.id).with_for_update())
            assert routing.route_new(session, [case.id]) is False  # skipped: try again
            other.rollback()
    assert routing.route_new(session, [case.id]) is True
    assert session.get(Case, case.id).routed_at is not None
    assert routing.route_new(session, [case.id]) is True  # nothing left, nothing done
