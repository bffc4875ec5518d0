"""Per-process caches of reference data (tokens, categories, SLA policies and calendars).

Two engines on one database stand for two processes: each keeps its own copies
(`reference_cache` keeps them per engine). A change made through one must show on the
very next request of the other, and an unchanged version must cost no read but its own.
"""

import contextlib
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from citizencenter import reference_cache
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import ApiToken, Department, Role, User
from citizencenter.accounts.service import Principal
from citizencenter.cases.enums import Channel, Priority
from citizencenter.cases.models import Case
from citizencenter.db import Base, load_all, make_engine, utcnow
from citizencenter.errors import InvalidInput, Unauthorized
from citizencenter.organisation.models import Category
from citizencenter.organisation.service import by_slug
from citizencenter.reference_cache import ReferenceVersion
from citizencenter.sla import policies
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.models import SlaCalendar, SlaCalendarVersion
from citizencenter.sla.enums import Metric
from citizencenter.sla.models import SlaPolicy
from tests.factories import bearer, case_payload

EMAIL = "cache.test@lund.example"


@contextlib.contextmanager
def statements(engine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # SQLite's own
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def two(committed, engine, database_url):
    """Sessions on two engines ("processes"); each use ends its transaction (SQLite locks)."""
    other = make_engine(database_url)
    first, second = Session(engine, expire_on_commit=False), Session(other,
                                                                     expire_on_commit=False)
    yield first, second
    first.close()
    second.close()
    other.dispose()
    with Session(engine) as cleanup:  # through the ORM, so the version moves on too
        user = cleanup.scalar(select(User).where(User.email == EMAIL))
        if user is not None:
            cleanup.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            cleanup.delete(user)
        cleanup.commit()


def ask(session: Session, secret: str):
    """One request's authentication, in a transaction of its own."""
    try:
        return accounts.authenticate(session, secret)
    except Unauthorized:
        return None
    finally:
        session.rollback()


def test_a_change_in_one_process_applies_on_the_next_request_of_the_other(two):
    first, second = two
    accounts.create_user(first, EMAIL, "Cache Test", "guide")
    _, secret = accounts.create_token(first, "cache test", user_email=EMAIL)
    assert ask(first, secret).role == ask(second, secret).role == Role.GUIDE

    user = first.scalar(select(User).where(User.email == EMAIL))
    user.role = Role.SUPERVISOR
    first.commit()
    assert ask(second, secret).role == Role.SUPERVISOR
    assert ask(second, secret).has_scope("reports:read")

    user.role, user.department = Role.DEPARTMENT, first.scalar(
        select(Department).where(Department.slug == "miljo"))
    first.commit()
    principal = ask(second, secret)
    assert (principal.role, principal.department_id) == (Role.DEPARTMENT, user.department_id)

    user.active = False
    first.commit()
    assert ask(second, secret) is None
    user.active = True
    first.commit()
    assert ask(second, secret) is not None

    accounts.revoke_tokens_named(first, "cache test")
    assert ask(second, secret) is None
    assert ask(first, secret) is None


def test_a_bulk_statement_changes_the_version_too(two):
    first, second = two
    accounts.create_user(first, EMAIL, "Cache Test", "guide")
    _, secret = accounts.create_token(first, "cache test", user_email=EMAIL)
    assert ask(second, secret) is not None
    first.execute(update(User).where(User.email == EMAIL).values(active=False))
    first.commit()
    assert ask(second, secret) is None


def test_an_unchanged_version_costs_one_read_and_expiry_still_holds(two):
    first, second = two
    _, secret = accounts.create_token(first, "cache test", role="guide")
    token = first.scalar(select(ApiToken).where(ApiToken.name == "cache test"))
    token.expires_at = utcnow() + timedelta(seconds=4)  # the two asks below fit in it
    first.commit()
    assert ask(second, secret) is not None  # read and kept
    other = second.get_bind()
    with statements(other) as seen:
        assert ask(second, secret) is not None
    assert len(seen) == 1 and "reference_version" in seen[0], seen
    time.sleep(max(0.0, (token.expires_at - utcnow()).total_seconds()) + 0.05)
    with statements(other) as seen:
        assert ask(second, secret) is None  # expired, though kept and nothing changed
    assert not any("api_tokens" in s for s in seen), seen
    first.execute(delete(ApiToken).where(ApiToken.id == token.id))
    first.commit()


def test_a_rolled_back_change_leaves_nothing_behind(two):
    first, second = two
    accounts.create_user(first, EMAIL, "Cache Test", "guide")
    _, secret = accounts.create_token(first, "cache test", user_email=EMAIL)
    before = first.scalar(select(ReferenceVersion.version))
    first.rollback()
    user = first.scalar(select(User).where(User.email == EMAIL))
    user.role = Role.SUPERVISOR
    first.flush()
    # The changing transaction reads its own change, and keeps nothing it read.
    assert accounts.authenticate(first, secret).role == Role.SUPERVISOR
    first.rollback()
    assert first.scalar(select(ReferenceVersion.version)) == before
    first.rollback()
    assert ask(first, secret).role == ask(second, secret).role == Role.GUIDE
    # The next change writes a version never seen before, not the rolled-back one again.
    user.name = "Renamed"
    first.commit()
    assert first.scalar(select(ReferenceVersion.version)) != before
    first.rollback()
    assert ask(second, secret).role == Role.GUIDE


def test_categories_are_kept_and_follow_a_change_elsewhere(two):
    first, second = two

    def department_of(session):
        try:
            return by_slug(session, Category, "synpunkt", "category").department_id
        finally:
            session.rollback()

    assert department_of(first) is None and department_of(second) is None
    with statements(second.get_bind()) as seen:
        assert department_of(second) is None
    assert len(seen) == 1 and "reference_version" in seen[0], seen
    category = first.scalar(select(Category).where(Category.slug == "synpunkt"))
    miljo = first.scalar(select(Department).where(Department.slug == "miljo"))
    category.department = miljo
    first.commit()
    try:
        assert department_of(second) == miljo.id
        # A kept row joins the session as the session's own object, with its relations.
        row = by_slug(second, Category, "synpunkt", "category")
        assert row in second and row.department.slug == "miljo"
        second.rollback()
    finally:
        category.department = None
        first.commit()
    assert department_of(second) is None
    with pytest.raises(InvalidInput):
        by_slug(second, Category, "no-such-category", "category")
    second.rollback()


HOURS = {"timezone": "Europe/Stockholm", "swedish_holidays": True, "closed_dates": [],
         "shortened_days": {}, "weekly_hours": {"monday": ["08:00-17:00"]}}


@pytest.fixture
def own_policy(two):
    """A category, calendar and policy of this test alone: other tests' cases never match."""
    first, _ = two
    first.add(Category(slug="cache-test", name="Cache test"))
    calendars.add_calendar(first, "system", {"slug": "cache-test", "name": "Cache test",
                                             **HOURS})
    policies.add_policy(first, {
        "slug": "cache-test", "name": "Cache test", "metric": Metric.RESOLUTION,
        "channel": Channel.EMAIL, "priority": None, "category": "cache-test",
        "target_value": 3, "target_unit": "hours", "calendar": "cache-test",
        "pause_statuses": [], "warn_at_percent": 80})
    first.commit()
    yield two
    first.rollback()
    first.execute(delete(SlaPolicy).where(SlaPolicy.slug == "cache-test"))
    calendar_id = first.scalar(select(SlaCalendar.id).where(SlaCalendar.slug == "cache-test"))
    first.execute(delete(SlaCalendarVersion).where(SlaCalendarVersion.calendar_id
                                                   == calendar_id))
    first.execute(delete(SlaCalendar).where(SlaCalendar.id == calendar_id))
    first.execute(delete(Category).where(Category.slug == "cache-test"))
    first.commit()


def _own_policy(session: Session) -> tuple[int, int]:
    """The target and calendar version of the policy a case of the test's category gets."""
    category_id = session.scalar(select(Category.id).where(Category.slug == "cache-test"))
    case = Case(channel=Channel.EMAIL, priority=Priority.NORMAL, category_id=category_id)
    session.rollback()
    try:
        [policy] = policies.matching_policies(session, case, Metric.RESOLUTION)
        assert policy in session  # the winner joins the session
        return policy.target_value, calendars.current_version(policy.calendar).version
    finally:
        session.rollback()


def test_sla_policies_are_kept_and_follow_a_change_elsewhere(own_policy):
    first, second = own_policy
    assert _own_policy(second) == (3, 1)
    with statements(second.get_bind()) as seen:
        case = Case(channel=Channel.EMAIL, priority=Priority.NORMAL)
        assert policies.matching_policies(second, case, Metric.RESOLUTION)
        second.rollback()
    assert len(seen) == 1 and "reference_version" in seen[0], seen
    first.scalar(select(SlaPolicy).where(SlaPolicy.slug == "cache-test")).target_value = 5
    first.commit()
    assert _own_policy(second) == (5, 1)


def test_a_new_calendar_version_is_used_at_once_elsewhere(own_policy):
    first, second = own_policy
    assert _own_policy(second) == (3, 1)
    admin = Principal(actor="test", scopes=frozenset({"*"}), role=Role.ADMIN)
    calendars.replace_calendar(first, admin, "cache-test", {
        "name": "Cache test", **HOURS, "weekly_hours": {"tuesday": ["08:00-17:00"]}})
    assert _own_policy(second) == (3, 2)


def test_an_intake_with_nothing_changed_reads_no_reference_data(client, tokens, engine):
    def post():
        response = client.post("/api/v1/cases", json=case_payload(category="synpunkt"),
                               headers=bearer(tokens["guide"]))
        assert response.status_code == 201, response.get_json()

    post()
    with statements(engine) as seen:
        post()
    tables = ("api_tokens", "users", "categories", "sla_policies", "sla_calendar")
    assert not [s for s in seen if s.startswith("SELECT") and any(
        f"FROM {t}" in s for t in tables)], seen
    assert len([s for s in seen if "reference_version" in s]) == 1, seen


def test_every_reference_table_is_a_table_of_the_models():
    load_all()
    assert set(Base.metadata.tables) >= reference_cache.REFERENCE_TABLES
    assert SlaPolicy.__tablename__ in reference_cache.REFERENCE_TABLES


def test_routing_in_one_process_follows_a_rule_added_in_another(two):
    """The worker keeps the live rules and queue policies by version: a rule a supervisor
    adds routes the next case at once."""
    from citizencenter.cases import service as cases
    from citizencenter.organisation.models import Queue
    from citizencenter.routing import rules
    from citizencenter.routing import service as routing

    worker, web = two

    def open_case(subject: str) -> Case:
        case = cases.open_case(web, accounts.SYSTEM, channel=Channel.WEBFORM, subject=subject,
                               description="Hej! Får jag bygga en altan?",
                               contact={"email": "altan@example.se"})
        web.commit()
        return case

    besok = web.scalar(select(Queue.id).where(Queue.slug == "besok"))
    web.rollback()
    first = open_case("Altan vid sjön")
    routing.route_pending(worker)  # keeps the rules and policies of this version
    assert worker.get(Case, first.id).queue_id != besok
    worker.rollback()
    rule = rules.create_rule(web, accounts.SYSTEM, {
        "name": "Altaner till besöken", "position": 1, "conditions": {"keywords": ["altan"]},
        "actions": {"queue": "besok"}})
    web.commit()
    try:
        second = open_case("Altan vid vägen")
        routing.route_pending(worker)
        routed = worker.get(Case, second.id)
        assert (routed.queue_id, routed.routing_rule_version_id) == (besok, rule.id)
        worker.rollback()
    finally:
        rules.retire_rule(web, accounts.SYSTEM, rule.rule_id)
        web.commit()
