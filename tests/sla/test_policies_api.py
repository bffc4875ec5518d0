"""SLA policies through the API: create, change, list, and bad input refused."""

import pytest
from sqlalchemy import func, select

from citizencenter.sla.models import SlaPolicy
from tests.factories import bearer
from tests.sla.helpers import policy_body

URL = "/api/v1/sla/policies"


def _count(session):
    return session.scalar(select(func.count()).select_from(SlaPolicy))


def test_demo_defaults_are_there(client, tokens):
    items = client.get(URL, query_string={"limit": 100},
                       headers=bearer(tokens["supervisor"])).get_json()["items"]
    by_slug = {p["slug"]: p for p in items}
    assert (by_slug["epost-forsta-svar-24h"]["target_value"],
            by_slug["epost-forsta-svar-24h"]["target_unit"],
            by_slug["epost-forsta-svar-24h"]["calendar"]) == (24, "hours", None)
    assert (by_slug["epost-forsta-svar-1-arbetsdag"]["target_unit"],
            by_slug["epost-forsta-svar-1-arbetsdag"]["calendar"]) == ("working_days",
                                                                      "kontorstid")
    assert by_slug["ring-upp"]["metric"] == "callback"
    assert by_slug["sociala-forsta-svar"]["target_value"] == 4
    assert by_slug["avslut"]["pause_statuses"] == ["waiting_on_citizen"]
    assert by_slug["forvaltning-avslut"]["metric"] == "department_resolution"
    filtered = client.get(URL, query_string={"metric": "callback"},
                          headers=bearer(tokens["supervisor"])).get_json()["items"]
    assert [p["slug"] for p in filtered] == ["ring-upp"]


def test_create_and_change(client, tokens):
    headers = bearer(tokens["supervisor"])
    response = client.post(URL, json=policy_body(
        "bradskande-epost", channel="email", priority="urgent", category="bygglov",
        calendar="kontorstid", pause_statuses=["waiting_on_citizen"], target_value=2),
        headers=headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert (created["priority"], created["category"], created["calendar"]) == (
        "urgent", "bygglov", "kontorstid")
    assert created["warn_at_percent"] == 80 and created["active"] is True
    changed = client.patch(f"{URL}/bradskande-epost", headers=headers,
                           json={"target_value": 3, "calendar": None, "active": False})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["target_value"], changed.get_json()["calendar"],
            changed.get_json()["active"]) == (3, None, False)


BAD = [
    ("unknown channel", {"channel": "fax"}, "channel", "Must be one of"),
    ("negative target", {"target_value": -4}, "target_value", "greater than or equal to 1"),
    ("zero target", {"target_value": 0}, "target_value", "greater than or equal to 1"),
    ("fractional target", {"target_value": 1.5}, "target_value", "integer"),
    ("warning over 100 %", {"warn_at_percent": 120}, "warn_at_percent",
     "less than or equal to 100"),
    ("unknown metric", {"metric": "happiness"}, "metric", "Must be one of"),
    ("unknown unit", {"target_unit": "fortnights"}, "target_unit", "Must be one of"),
    ("final pause status", {"pause_statuses": ["closed"]}, "pause_statuses.0", "Must be one of"),
    ("unknown calendar", {"calendar": "finns-inte"}, "calendar", "Unknown calendar"),
    ("unknown category", {"category": "finns-inte"}, "category", "Unknown category"),
    ("unknown department", {"department": "finns-inte"}, "department", "Unknown department"),
    ("unknown field", {"colour": "blå"}, "colour", "Unknown field"),
    ("missing target", {"target_value": None}, "target_value", "null"),
]


@pytest.mark.parametrize(("name", "change", "field", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_policies_are_refused_with_the_reason(client, tokens, session, name, change,
                                                  field, reason):
    before = _count(session)
    response = client.post(URL, json={**policy_body("felaktig"), **change},
                           headers=bearer(tokens["admin"]))
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    errors = [e for e in response.get_json()["errors"] if e["field"] == field]
    assert errors and reason.lower() in errors[0]["message"].lower(), response.get_json()
    assert _count(session) == before


def test_bad_change_changes_nothing(client, tokens):
    headers = bearer(tokens["admin"])
    for change in ({"warn_at_percent": 101}, {"target_value": -1}, {}, {"slug": "ny"}):
        response = client.patch(f"{URL}/ring-upp", json=change, headers=headers)
        assert response.status_code == 422, (change, response.get_json())
    policy = client.get(f"{URL}/ring-upp", headers=headers).get_json()
    assert (policy["warn_at_percent"], policy["target_value"]) == (80, 120)


def test_guides_and_department_staff_may_not_change_policies(client, tokens):
    for who in ("guide", "department"):
        response = client.patch(f"{URL}/ring-upp", json={"target_value": 5},
                                headers=bearer(tokens[who]))
        assert response.status_code == 403


def test_duplicate_policy_is_a_conflict(client, tokens):
    response = client.post(URL, json=policy_body("ring-upp"), headers=bearer(tokens["admin"]))
    assert response.status_code == 409


def test_patch_with_if_match_refuses_a_stale_etag(client, tokens, session):
    headers = bearer(tokens["supervisor"])
    assert client.post(URL, json=policy_body("om-etag", target_value=2),
                       headers=headers).status_code == 201
    read = client.get(f"{URL}/om-etag", headers=headers)
    tag = read.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')

    changed = client.patch(f"{URL}/om-etag", headers={**headers, "If-Match": tag},
                           json={"target_value": 3})
    assert changed.status_code == 200, changed.get_json()
    new_tag = changed.headers["ETag"]
    assert new_tag != tag
    assert client.get(f"{URL}/om-etag", headers=headers).headers["ETag"] == new_tag

    # The first read's ETag is stale now: 412 as problem+json, nothing saved.
    stale = client.patch(f"{URL}/om-etag", headers={**headers, "If-Match": tag},
                         json={"target_value": 9})
    assert stale.status_code == 412
    assert stale.content_type == "application/problem+json"
    assert client.get(f"{URL}/om-etag", headers=headers).get_json()["target_value"] == 3

    # A weak form of the current tag matches; no If-Match at all still works (no 428).
    weak = client.patch(f"{URL}/om-etag", headers={**headers, "If-Match": f"W/{new_tag}"},
                        json={"target_value": 4})
    assert weak.status_code == 200, weak.get_json()
    plain = client.patch(f"{URL}/om-etag", headers=headers, json={"target_value": 5})
    assert plain.status_code == 200, plain.get_json()
    assert plain.get_json()["target_value"] == 5
