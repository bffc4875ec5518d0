"""The routing administration's API additions: a dry run of the router
(POST /api/v1/routing/rules/dry-run) that stores nothing, and moving a rule up or down
(POST /api/v1/routing/rules/<id>/move), versioned and audited."""

import itertools

import pytest
from sqlalchemy import func, select, update

from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.organisation.models import ChannelDefaultQueue, Queue
from citizencenter.routing.models import RoutingDecision, RoutingRule, RoutingRuleVersion
from citizencenter.routing.service import route_case
from citizencenter.db import utcnow
from tests.factories import bearer

RULES = "/api/v1/routing/rules"
_n = itertools.count(1)


@pytest.fixture(autouse=True)
def no_other_rules(session):
    """Only this test's rules are live (the change is rolled back with the test)."""
    session.execute(update(RoutingRule).values(retired_at=utcnow()))
    session.commit()


def _rule(client, token, **body) -> dict:
    payload = {"name": f"Regel {next(_n)}", "position": 10, "conditions": {},
               "actions": {"queue": "bygglov"}}
    payload.update(body)
    response = client.post(RULES, json=payload, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _counts(session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Case, Contact, AuditEntry, RoutingDecision, RoutingRuleVersion))


def _dry(client, token, **body):
    return client.post(f"{RULES}/dry-run", json=body, headers=bearer(token))


def test_dry_run_names_the_winning_rule_the_reason_and_target_and_stores_nothing(
        client, tokens, session):
    token = tokens["supervisor"]
    permit = _rule(client, token, name="Bygglov", position=10,
                   conditions={"keywords": ["bygglov"]},
                   actions={"queue": "bygglov", "priority": "high"})
    _rule(client, token, name="All e-post", position=20, conditions={"channels": ["email"]},
          actions={"queue": "skola"})
    before = _counts(session)
    response = _dry(client, token, subject="Fråga om BYGGLOVET för altanen", channel="email",
                    sender="ny.avsandare.dry@example.se")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["rule"]["id"] == permit["id"] and result["rule"]["name"] == "Bygglov"
    assert result["reason"] == "rule"
    assert result["matched"] == [{"condition": "keywords", "value": "bygglov"}]
    assert (result["queue"], result["priority"], result["department"]) == (
        "bygglov", "high", None)
    assert _counts(session) == before, "a dry run stores nothing: no case, contact or audit"

    # The other rule wins for an e-mail the first does not match; no rule for a phone call:
    # the channel's default queue, as the router reads it.
    other = _dry(client, token, subject="Skolskjuts", channel="email").get_json()
    assert other["rule"]["name"] == "All e-post" and other["queue"] == "skola"
    assert other["matched"] == [{"condition": "channels", "value": "email"}]
    default = session.scalar(select(Queue.slug).join(
        ChannelDefaultQueue, ChannelDefaultQueue.queue_id == Queue.id)
        .where(ChannelDefaultQueue.channel == "phone"))
    none = _dry(client, token, subject="Parkering", channel="phone",
                sender="046-35 50 00").get_json()
    assert (none["rule"], none["reason"], none["queue"]) == (None, "channel_default", default)
    assert _counts(session) == before

    # The real router agrees with each dry run.
    for subject, channel, queue in (("Fråga om BYGGLOVET för altanen", Channel.EMAIL, "bygglov"),
                                    ("Skolskjuts", Channel.EMAIL, "skola"),
                                    ("Parkering", Channel.PHONE, default)):
        case = cases.open_case(session, SYSTEM, channel=channel, subject=subject,
                               description="")
        route_case(session, case.id)
        session.refresh(case)
        assert case.queue.slug == queue


def test_dry_run_reads_the_sender_as_intake_would(client, tokens, session):
    token = tokens["supervisor"]
    _rule(client, token, name="Kända", position=10,
          conditions={"contact": {"min_open_cases": 1}}, actions={"queue": "skola"})
    email = f"avsandare{next(_n)}@example.se"
    case = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Första",
                           description="", contact={"email": email})
    assert case.contact_id
    assert _dry(client, token, subject="Andra", channel="email",
                sender=email.upper()).get_json()["rule"]["name"] == "Kända"
    assert _dry(client, token, subject="Andra", channel="email",
                sender="nagon.annan@example.se").get_json()["rule"] is None


def test_dry_run_refuses_bad_input_and_needs_routing_read(client, tokens):
    bad = _dry(client, tokens["supervisor"], subject="x", channel="email", sender="inte ett nr")
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "sender"
    assert _dry(client, tokens["supervisor"], subject="", channel="fax").status_code == 422
    assert _dry(client, tokens["guide"], subject="x", channel="email").status_code == 403


def test_moving_a_rule_changes_which_wins_with_a_version_and_an_audit_row(
        client, tokens, session):
    token = tokens["supervisor"]
    first = _rule(client, token, name="Först", position=10, actions={"queue": "bygglov"})
    second = _rule(client, token, name="Sedan", position=20, actions={"queue": "skola"})
    assert _dry(client, token, subject="Hej", channel="webform").get_json()["rule"]["id"] \
        == first["id"]

    moved = client.post(f"{RULES}/{second['id']}/move", json={"direction": "up"},
                        headers=bearer(token))
    assert moved.status_code == 200, moved.get_json()
    assert [(r["name"], r["position"]) for r in moved.get_json()["items"]] == [
        ("Sedan", 10), ("Först", 20)]
    listed = client.get(RULES, headers=bearer(token)).get_json()["items"]
    assert [r["name"] for r in listed] == ["Sedan", "Först"]
    assert _dry(client, token, subject="Hej", channel="webform").get_json()["rule"]["id"] \
        == second["id"]
    case = cases.open_case(session, SYSTEM, channel=Channel.WEBFORM, subject="Hej",
                           description="")
    route_case(session, case.id)
    session.refresh(case)
    assert case.queue.slug == "skola"

    versions = client.get(f"{RULES}/{second['id']}/versions",
                          headers=bearer(token)).get_json()["items"]
    assert [(v["version"], v["position"]) for v in versions] == [(1, 20), (2, 10)]
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "routing_rule.moved", AuditEntry.entity_id == str(second["id"]))
        .order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.actor.startswith("user:")

    # Already first: nothing moves, no version; the last cannot move down.
    client.post(f"{RULES}/{second['id']}/move", json={"direction": "up"}, headers=bearer(token))
    assert len(client.get(f"{RULES}/{second['id']}/versions",
                          headers=bearer(token)).get_json()["items"]) == 2


def test_moving_rules_on_the_same_position_numbers_them_apart(client, tokens):
    token = tokens["supervisor"]
    a = _rule(client, token, name="A", position=5)
    b = _rule(client, token, name="B", position=5)
    moved = client.post(f"{RULES}/{b['id']}/move", json={"direction": "up"},
                        headers=bearer(token)).get_json()["items"]
    assert [(r["id"], r["position"]) for r in moved] == [(b["id"], 10), (a["id"], 20)]


def test_moving_refuses_bad_input_unknown_rules_and_guides(client, tokens):
    token = tokens["supervisor"]
    rule = _rule(client, token)
    assert client.post(f"{RULES}/{rule['id']}/move", json={"direction": "sideways"},
                       headers=bearer(token)).status_code == 422
    assert client.post(f"{RULES}/999999/move", json={"direction": "up"},
                       headers=bearer(token)).status_code == 404
    assert client.post(f"{RULES}/{rule['id']}/move", json={"direction": "up"},
                       headers=bearer(tokens["guide"])).status_code == 403
