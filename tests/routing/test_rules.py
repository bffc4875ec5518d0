"""Rules through the API: ordered, versioned, matched on Swedish text; bad rules refused."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.routing.models import (
    GuideProfile,
    Presence,
    QueuePolicy,
    RoutingRule,
    RoutingRuleVersion,
)
from citizencenter.routing.service import route_case
from tests.factories import bearer

RULES = "/api/v1/routing/rules"


def _rule(client, token, **body):
    payload = {"name": "Bygglov", "position": 10, "conditions": {"keywords": ["bygglov"]},
               "actions": {"queue": "bygglov"}}
    payload.update(body)
    return client.post(RULES, json=payload, headers=bearer(token))


def _routed(session, subject, description="", channel=Channel.EMAIL, **kwargs) -> Case:
    case = cases.open_case(session, SYSTEM, channel=channel, subject=subject,
                           description=description, **kwargs)
    route_case(session, case.id)
    session.refresh(case)
    return case


@pytest.fixture(autouse=True)
def nobody_free(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def test_first_matching_rule_wins_in_order(client, tokens, session):
    token = tokens["supervisor"]
    assert _rule(client, token, name="Skola", position=20,
                 conditions={"keywords": ["förskola", "skolskjuts"]},
                 actions={"queue": "skola", "priority": "high"}).status_code == 201
    assert _rule(client, token, position=10).status_code == 201
    listed = client.get(RULES, headers=bearer(token)).get_json()["items"]
    assert [r["name"] for r in listed] == ["Bygglov", "Skola"]
    school = _routed(session, "Ansökan", "Jag söker FÖRSKOLEPLATS till hösten")
    assert school.queue.slug == "skola" and school.priority.value == "high"
    both = _routed(session, "Bygglovet för förskolan")  # both match; position 10 first
    assert both.queue.slug == "bygglov"
    neither = _routed(session, "Parkering", channel=Channel.SOCIAL)
    assert neither.queue.slug == "sociala-medier" and neither.routing_rule_version_id is None


def test_editing_makes_a_new_version_and_cases_keep_theirs(client, tokens, session):
    token = tokens["admin"]
    created = _rule(client, token).get_json()
    first = _routed(session, "bygglov för altan")
    assert first.routing_rule_version_id == created["version_id"]
    edited = client.put(f"{RULES}/{created['id']}", headers=bearer(token), json={
        "name": "Bygglov v2", "position": 10, "conditions": {"keywords": ["bygglov"]},
        "actions": {"queue": "bygglov", "priority": "urgent"}}).get_json()
    assert edited["version"] == 2 and edited["id"] == created["id"]
    second = _routed(session, "bygglov för plank")
    assert second.routing_rule_version_id == edited["version_id"]
    assert second.priority.value == "urgent"
    versions = client.get(f"{RULES}/{created['id']}/versions", headers=bearer(token)).get_json()
    assert [v["version"] for v in versions["items"]] == [1, 2]
    assert client.delete(f"{RULES}/{created['id']}", headers=bearer(token)).status_code == 204
    assert _routed(session, "bygglov igen").routing_rule_version_id is None
    assert client.get(f"{RULES}/{created['id']}", headers=bearer(token)).status_code == 404
    # A retired rule's versions stay readable for the cases they routed.
    assert client.get(f"{RULES}/{created['id']}/versions",
                      headers=bearer(token)).status_code == 200


def test_conditions_on_channel_category_language_contact_and_time(client, tokens, session):
    token = tokens["admin"]
    for position, (conditions, queue) in enumerate([
        ({"channels": ["social"], "categories": ["avfall"]}, "bygglov"),
        ({"languages": ["en"]}, "skola"),
        ({"contact": {"min_open_cases": 2}}, "besok"),
        ({"hours": {"from": "22:00", "to": "06:00"}, "channels": ["webform"]}, "kontaktcenter"),
    ]):
        assert _rule(client, token, name=f"r{position}", position=position,
                     conditions=conditions, actions={"queue": queue}).status_code == 201
    assert _routed(session, "Soporna", channel=Channel.SOCIAL,
                   category="avfall").queue.slug == "bygglov"
    assert _routed(session, "Soporna", channel=Channel.EMAIL,
                   category="avfall").queue.slug == "epost"
    assert _routed(session, "Question", "Hello, how do I apply for the permit? Please "
                   "tell me.").queue.slug == "skola"
    contact = {"email": "frequent@example.se"}
    assert _routed(session, "Ett", contact=contact).queue.slug == "epost"
    assert _routed(session, "Två", contact=contact).queue.slug == "epost"
    assert _routed(session, "Tre", contact=contact).queue.slug == "besok"  # two open before
    night = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Stockholm
    day = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert _routed(session, "Natt", channel=Channel.WEBFORM,
                   received_at=night).queue.slug == "kontaktcenter"
    assert _routed(session, "Dag", channel=Channel.WEBFORM, received_at=day).queue.slug == "epost"


def test_a_rule_can_send_straight_to_a_department_and_require_skills(client, tokens, session):
    token = tokens["admin"]
    _rule(client, token, name="Bistånd", conditions={"keywords": ["ekonomiskt bistånd"]},
          actions={"department": "socialforvaltningen"})
    _rule(client, token, name="Bygglov", position=11,
          actions={"queue": "epost", "required_skills": {"categories": ["bygglov"]}})
    forwarded = _routed(session, "Ansökan om ekonomiska biståndet")
    assert forwarded.status == CaseStatus.FORWARDED
    assert forwarded.department.slug == "socialforvaltningen"
    skilled = _routed(session, "Bygglov")
    assert skilled.required_skills == ["category:bygglov"] and skilled.queue.slug == "epost"


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (RoutingRule, RoutingRuleVersion, QueuePolicy))


BAD_RULES = [
    ({"colour": "red"}, "colour", "Unknown field"),
    ({"conditions": {"keywords": ["bygglov"], "mood": "glad"}}, "conditions.mood",
     "Unknown field"),
    ({"actions": {"queue": "bygglov", "assignee": 3}}, "actions.assignee", "Unknown field"),
    ({"actions": {"queue": "nowhere"}}, "actions.queue", "nowhere"),
    ({"actions": {"department": "nowhere"}}, "actions.department", "nowhere"),
    ({"actions": {"queue": "bygglov", "department": "miljo"}}, "actions", "exactly one"),
    ({"actions": {}}, "actions", "exactly one"),
    ({"position": "first"}, "position", "integer"),
    ({"conditions": {"keywords": "bygglov"}}, "conditions.keywords", "list"),
    ({"conditions": {"keywords": ["..."]}}, "conditions.keywords.0", "letters"),
    ({"conditions": {"channels": ["fax"]}}, "conditions.channels.0", "Must be one of"),
    ({"conditions": {"categories": ["astrologi"]}}, "conditions.categories", "astrologi"),
    ({"conditions": {"hours": {"from": "25:00"}}}, "conditions.hours.from", "HH:MM"),
    ({"conditions": {"languages": ["Swedish"]}}, "conditions.languages.0", "ISO 639"),
    ({"actions": {"queue": "epost", "priority": "asap"}}, "actions.priority", "Must be one of"),
    ({"actions": {"queue": "epost", "required_skills": {"categories": ["x"]}}},
     "actions.required_skills.categories", "Unknown"),
]


@pytest.mark.parametrize(("override", "field", "reason"), BAD_RULES,
                         ids=[b[1] + ":" + b[2] for b in BAD_RULES])
def test_bad_rules_are_422_naming_the_field_and_change_nothing(client, tokens, session,
                                                                override, field, reason):
    before = _counts(session)
    response = _rule(client, tokens["admin"], **override)
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert field in errors and reason in str(errors[field]), errors
    assert _counts(session) == before


def test_rules_need_a_supervisor_or_admin(client, tokens):
    assert _rule(client, tokens["guide"]).status_code == 403
    assert client.get(RULES, headers=bearer(tokens["guide"])).status_code == 403
    assert client.get(RULES, headers=bearer(tokens["supervisor"])).status_code == 200


def test_queue_policies_refuse_cycles_and_unknown_queues(client, tokens, session):
    auth = bearer(tokens["admin"])
    url = "/api/v1/routing/queues"
    assert client.put(f"{url}/kontaktcenter", headers=auth, json={
        "timeout_s": 60, "overflow_queue": "epost"}).status_code == 200
    assert client.put(f"{url}/epost", headers=auth, json={
        "timeout_s": 60, "overflow_queue": "besok"}).status_code == 200
    before = _counts(session)
    for slug, body, field, reason in (
        ("besok", {"timeout_s": 60, "overflow_queue": "kontaktcenter"}, "overflow_queue",
         "besok → kontaktcenter → epost → besok"),
        ("besok", {"timeout_s": 60, "overflow_queue": "besok"}, "overflow_queue", "cycle"),
        ("besok", {"timeout_s": 60, "overflow_queue": "ingenstans"}, "overflow_queue",
         "Unknown queue"),
        ("besok", {"overflow_queue": "epost"}, "timeout_s", "needs a timeout"),
        ("besok", {"timeout_s": -5}, "timeout_s", "greater than or equal"),
        ("besok", {"timeout_s": 60, "after": "x"}, "after", "Unknown field"),
    ):
        response = client.put(f"{url}/{slug}", headers=auth, json=body)
        assert response.status_code == 422, (body, response.get_json())
        errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
        assert field in errors and reason in str(errors[field]), errors
    assert _counts(session) == before
    assert client.put(f"{url}/ingenstans", headers=auth, json={}).status_code == 404
    listed = client.get(url, headers=auth).get_json()["items"]
    assert {"queue": "kontaktcenter", "timeout_s": 60, "overflow_queue": "epost",
            "raise_priority": False} in listed
