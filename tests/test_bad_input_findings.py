"""The fuzzing run's findings: each request gets a problem+json 4xx naming the field, never
a 5xx, and stores nothing in any table."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from citizencenter.db import Base, load_all
from citizencenter.json_input import MAX_DEPTH
from tests.channels.phone.helpers import post_events
from tests.conftest import cleared_keys
from tests.factories import bearer, case_payload, create_case

JSON = "application/json"
HUGE = 18446744073709551615


def _counts(session) -> dict:
    """Rows in every table: a refused request may leave none behind anywhere."""
    load_all()
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables}


def _nested(depth: int, leaf="x"):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def _raw(**overrides) -> bytes:
    """A case body whose text may hold escapes json.dumps would not write (lone surrogates)."""
    return json.dumps(case_payload(**overrides)).replace("@SURROGATE@", "\\ud800").encode()


def _assert_problem(response, status: int, field: str | None):
    assert response.status_code == status, (response.status_code, response.get_data()[:500])
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field:
        named = [e["field"] for e in problem["errors"]]
        assert any(n == field or n.startswith(field + ".") for n in named), named
        assert field.split(".")[-1] in problem["detail"]


CASE_BODIES = [
    # (name, raw body, field named)
    ("CR/LF in contact name", _raw(contact={"name": "Karin\r\nBcc: all@example.se",
                                            "email": "k@example.se"}), "contact.name"),
    ("LF in subject", _raw(subject="Fråga\nom bygglov"), "subject"),
    ("bell in description", _raw(description="Hej\x07"), "description"),
    ("NUL in description", _raw(description="Hej\x00då"), "description"),
    ("NUL in e-mail", _raw(contact={"email": "a\x00@example.se"}), "contact.email"),
    ("CR/LF in e-mail", _raw(contact={"email": "a@example.se\r\nBcc: b@example.se"}),
     "contact.email"),
    ("LF in phone", _raw(contact={"phone": "+46701234567\n"}), "contact.phone"),
    ("LF in category", _raw(category="bygglov\n"), "category"),
    ("lone surrogate in subject", _raw(subject="Fråga @SURROGATE@"), "subject"),
    ("lone surrogate in a key", _raw(**{"x@SURROGATE@": 1}), "x\\ud800"),
    ("received_at in year 1", _raw(received_at="0001-01-01T00:00:00+01:00"), "received_at"),
    ("received_at in year 9999", _raw(received_at="9999-12-31T23:59:59-01:00"), "received_at"),
    ("received_at in 1970", _raw(received_at="1970-01-01T00:00:00Z"), "received_at"),
    ("received_at an hour ahead", None, "received_at"),
    ("nested deeper than the limit", _raw(subject=_nested(MAX_DEPTH)), "subject"),
    ("nested beyond the parser's recursion",
     b'{"subject": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "_schema"),
]


@pytest.mark.parametrize(("name", "body", "field"), CASE_BODIES, ids=[c[0] for c in CASE_BODIES])
def test_bad_text_dates_and_nesting_in_a_new_case(client, tokens, session, name, body, field):
    if body is None:
        body = _raw(received_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    before = _counts(session)
    response = client.post("/api/v1/cases", data=body, content_type=JSON,
                           headers=bearer(tokens["guide"]))
    _assert_problem(response, 422, field)
    assert _counts(session) == before


def test_tab_in_a_subject_and_line_breaks_in_a_description_are_fine(client, tokens):
    case = create_case(client, tokens["guide"], subject="Fråga\tom bygglov",
                       description="Hej!\r\nEn fråga.\n\tTack")
    assert case["subject"] == "Fråga\tom bygglov"


METADATA = [
    ("client-set auto", {"auto": True}),
    ("client-set email delivery", {"email": {"status": "sent"}}),
    ("nested 500 levels", _nested(500)),
    ("nested past its own limit", _nested(5)),
    ("too large", {"note": "x" * 9000}),
    ("CR/LF in a key", {"a\r\nb": 1}),
    ("bell in a value", {"a": ["ok", "\x07"]}),
]


@pytest.mark.parametrize(("name", "metadata"), METADATA, ids=[m[0] for m in METADATA])
def test_channel_metadata_is_bounded_and_cannot_forge_system_keys(client, tokens, session,
                                                                   name, metadata):
    case = create_case(client, tokens["guide"])
    before = _counts(session)
    response = client.post(f"/api/v1/cases/{case['id']}/messages", headers=bearer(
        tokens["guide"]), json={"direction": "outbound", "body": "Hej!",
                                "channel_metadata": metadata})
    _assert_problem(response, 422, "channel_metadata")
    assert _counts(session) == before


def test_the_clients_own_metadata_is_kept(client, tokens):
    case = create_case(client, tokens["guide"])
    response = client.post(f"/api/v1/cases/{case['id']}/messages", headers=bearer(
        tokens["guide"]), json={"direction": "internal", "body": "Rad ett\nRad två",
                                "channel_metadata": {"ärende": {"lista": [1, "två"]}}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["channel_metadata"] == {"ärende": {"lista": [1, "två"]}}


@pytest.mark.parametrize(("method", "path"), [
    ("get", f"/api/v1/routing/rules/{HUGE}"), ("get", "/api/v1/routing/rules/2147483648"),
    ("get", "/api/v1/routing/rules/0"), ("get", f"/api/v1/routing/rules/{HUGE}/versions"),
    ("patch", f"/api/v1/routing/guides/{HUGE}"), ("get", f"/api/v1/email/quarantine/{HUGE}"),
    ("get", "/api/v1/sla/calendars/kontor%00"), ("get", "/api/v1/sla/policies/a%0Ab"),
])
def test_ids_out_of_range_and_control_characters_in_paths_are_404(client, tokens, method,
                                                                    path):
    response = getattr(client, method)(path, json={"queues": []},
                                       headers=bearer(tokens["admin"]))
    _assert_problem(response, 404, None)


@pytest.mark.parametrize(("query", "field"), [
    ("assignee=7395000000000000000000000", "assignee"),
    (f"assignee={HUGE}", "assignee"),
    ("assignee=-1", "assignee"),
    ("q=%00", "q"),
    ("q=a%0Ab", "q"),
    ("queue=%00", "queue"),
    ("received_from=0001-01-01T00:00:00%2B01:00", "received_from"),
    ("received_to=9999-12-31T23:59:59-01:00", "received_to"),
])
def test_bad_case_filters_are_422(client, tokens, query, field):
    response = client.get(f"/api/v1/cases?{query}", headers=bearer(tokens["admin"]))
    _assert_problem(response, 422, field)
    assert response.get_json()["errors"][0]["location"] == "query"


@pytest.mark.parametrize(("query", "field"), [
    ("from=0001-01-01&to=2026-01-01", "from"),
    ("from=2026-01-01&to=9999-12-31T23:59:59-01:00", "to"),
])
def test_report_periods_outside_the_calendar_are_422(client, tokens, query, field):
    response = client.get(f"/api/v1/reports/service-measurement?{query}",
                          headers=bearer(tokens["supervisor"]))
    _assert_problem(response, 422, field)


def test_a_huge_assignee_in_a_patch_is_422(client, tokens, session):
    case = create_case(client, tokens["guide"])
    before = _counts(session)
    for assignee in (HUGE, 2**31, 0):
        response = client.patch(f"/api/v1/cases/{case['id']}", json={"assignee": assignee},
                                headers={**bearer(tokens["supervisor"]), "If-Match": '"1"'})
        _assert_problem(response, 422, "assignee")
    assert _counts(session) == before


OTHER_BODIES = [
    # (name, method, path, body, role, field)
    ("LF in a rule name", "post", "/api/v1/routing/rules",
     {"name": "Bygglov\nX", "position": 1, "actions": {"queue": "bygglov"}}, "admin", "name"),
    ("NUL in a rule keyword", "post", "/api/v1/routing/rules",
     {"name": "Bygglov", "position": 1, "conditions": {"keywords": ["bygg\x00lov"]},
      "actions": {"queue": "bygglov"}}, "admin", "conditions.keywords.0"),
    ("huge rule position", "post", "/api/v1/routing/rules",
     {"name": "Bygglov", "position": HUGE, "actions": {"queue": "bygglov"}}, "admin",
     "position"),
    ("year 1 closed date", "post", "/api/v1/sla/calendars",
     {"slug": "kal-ett", "name": "Kal", "weekly_hours": {"monday": ["08:00-17:00"]},
      "closed_dates": ["0001-01-01"]}, "supervisor", "closed_dates.0"),
    ("CR in a calendar name", "post", "/api/v1/sla/calendars",
     {"slug": "kal-tva", "name": "Kal\r", "weekly_hours": {"monday": ["08:00-17:00"]}},
     "supervisor", "name"),
    ("LF in a policy slug", "post", "/api/v1/sla/policies",
     {"slug": "policy\n", "name": "P", "metric": "first_response", "target_value": 1,
      "target_unit": "hours"}, "supervisor", "slug"),
    ("LF in a forwarding department", "post", "/api/v1/cases/{case}/forward",
     {"department": "bygg\n"}, "guide", "department"),
    ("NUL in a forwarding note", "post", "/api/v1/cases/{case}/forward",
     {"department": "stadsbyggnad", "note": "a\x00"}, "guide", "note"),
    ("walk-in in 1970", "post", "/api/v1/walk-ins",
     {"service_point": "kristallen", "visited_at": "1970-01-01T10:00:00Z", "subject": "Fråga",
      "resolved_at_first_contact": True}, "guide", "visited_at"),
    ("CR/LF in a walk-in subject", "post", "/api/v1/walk-ins",
     {"service_point": "kristallen", "visited_at": "2026-11-30T10:00:00Z",
      "subject": "Fråga\r\nX", "resolved_at_first_contact": True}, "guide", "subject"),
    ("a number for a boolean", "post", "/api/v1/walk-ins",
     {"service_point": "kristallen", "visited_at": "2026-11-30T10:00:00Z", "subject": "Fråga",
      "resolved_at_first_contact": 1}, "guide", "resolved_at_first_contact"),
    ("a word for a boolean", "post", "/api/v1/routing/rules",
     {"name": "Bygglov", "position": 1, "conditions": {"contact": {"known": "yes"}},
      "actions": {"queue": "bygglov"}}, "admin", "conditions.contact.known"),
    ("CR/LF in a web form name", "post", "/api/v1/webform/inquiries",
     {"category": "felanmalan", "subject": "Lampa", "message": "Trasig", "name": "Per\r\nX",
      "email": "per@example.se"}, None, "name"),
    ("lone surrogate in a web form message", "post", "/api/v1/webform/inquiries",
     {"category": "felanmalan", "subject": "Lampa", "message": "@SURROGATE@"}, None, "message"),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "role", "field"), OTHER_BODIES,
                         ids=[b[0] for b in OTHER_BODIES])
def test_bad_input_to_other_domains_is_refused(client, tokens, session, limiter_redis, name,
                                               method, path, body, role, field):
    if "{case}" in path:
        path = path.format(case=create_case(client, tokens["guide"])["id"])
    before = _counts(session)
    raw = json.dumps(body).replace("@SURROGATE@", "\\ud800")
    response = getattr(client, method)(path, data=raw, content_type=JSON,
                                       headers=bearer(tokens[role]) if role else {})
    _assert_problem(response, 422, field)
    assert _counts(session) == before


@pytest.mark.parametrize(("name", "event", "field"), [
    ("NUL in the raw payload", {"raw": {"line": "a\x00b"}}, "raw.line"),
    ("LF in the call id", {"call_id": "c-1\n"}, "0.call_id"),
    ("occurred in year 9999", {"occurred_at": "9999-12-31T23:59:59-01:00"}, "0.occurred_at"),
    ("nested raw payload", {"raw": _nested(MAX_DEPTH)}, "raw"),
])
def test_bad_call_events_are_refused(client, session, phone_integration, name, event, field):
    body = {"event_id": "e-1", "source": "test", "type": "call.queued",
            "occurred_at": "2026-11-30T10:00:00Z", "call_id": "c-1", "queue": "kontaktcenter",
            **event}
    before = _counts(session)
    response = post_events(client, phone_integration, body)
    _assert_problem(response, 422, field)
    assert _counts(session) == before


@pytest.fixture
def limiter_redis(redis_server):
    """The web form's rate counters cleared, so its limit refuses none of these."""
    with cleared_keys(redis_server, "citizencenter:webform:*") as client:
        yield client
