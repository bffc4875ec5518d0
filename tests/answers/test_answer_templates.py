"""Answer templates: kept by supervisors, filled in a sandbox, previewed, sent and recorded."""

import pytest
from sqlalchemy import func, select

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.answers import filling
from citizencenter.answers.hours import describe
from citizencenter.answers.models import AnswerTemplate
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Message
from citizencenter.errors import InvalidInput
from citizencenter.knowledge import service as knowledge
from tests.factories import bearer, create_case

URL = "/api/v1/answer-templates"
BODY = ("Hej {{ citizen_name }}!\nTack för din fråga ({{ reference }}). Vi har öppet "
        "{{ opening_hours }}.\nVänliga hälsningar\n{{ guide_name | upper }}")


def _template(client, tokens, **overrides) -> dict:
    payload = {"name": "Bygglov: tack", "body": BODY, "channel": "email",
               "category": "bygglov", **overrides}
    response = client.post(URL, json=payload, headers=bearer(tokens["supervisor"]))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _preview(client, token, case_id, template_id):
    return client.post(f"/api/v1/cases/{case_id}/answer-templates/{template_id}/preview",
                       headers=bearer(token))


def test_supervisors_keep_templates_and_guides_read_them(client, tokens, session):
    created = _template(client, tokens)
    assert created["channel"] == "email" and created["category"] == "bygglov"
    assert created["active"] is True
    url = f"{URL}/{created['id']}"
    assert client.get(url, headers=bearer(tokens["guide"])).get_json()["body"] == BODY
    listed = client.get(URL, query_string={"channel": "email", "category": "bygglov"},
                        headers=bearer(tokens["guide"])).get_json()["items"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert client.get(URL, query_string={"channel": "phone"},
                      headers=bearer(tokens["guide"])).get_json()["items"] == []

    refused = client.post(URL, json={"name": "x", "body": "Hej"},
                          headers=bearer(tokens["guide"]))
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert client.patch(url, json={"active": False},
                        headers=bearer(tokens["guide"])).status_code == 403

    changed = client.patch(url, json={"active": False, "name": "Bygglov: tack (gammal)"},
                           headers=bearer(tokens["supervisor"]))
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "answer_template")).all()
    assert sorted(actions) == ["answer_template.changed", "answer_template.created"]

    duplicate = client.post(URL, json={"name": "Bygglov: tack (gammal)", "body": "Hej"},
                            headers=bearer(tokens["supervisor"]))
    assert duplicate.status_code == 409
    assert client.delete(url, headers=bearer(tokens["supervisor"])).status_code == 204
    assert client.get(url, headers=bearer(tokens["guide"])).status_code == 404


@pytest.mark.parametrize("body, problem", [
    ("{{ ''.__class__ }}", "attribute and item access"),
    ("{{ cycler.__init__ }}", "attribute and item access"),
    ("{{ citizen_name.upper() }}", "not call"),
    ("{{ citizen_name['x'] }}", "attribute and item access"),
    ("{{ citizen_name[0] }}", "attribute and item access"),
    ("{{ lipsum }}", "unknown field 'lipsum'"),
    ("{{ citizen_name | attr('__class__') }}", "filter 'attr' is not allowed"),
    ("{{ citizen_name | format('%s') }}", "filter 'format' is not allowed"),
    ("{% for x in reference %}{{ x }}{% endfor %}", "not for"),
    ("{% set reference = 1 %}", "not assign"),
    ("Hej {{ citizen_name", "line 1"),
    ("Ditt personnummer 19121212-1212 är noterat", "personnummer"),
])
def test_templates_beyond_fields_and_filters_are_refused_when_saved(client, tokens, session,
                                                                    body, problem):
    before = session.scalar(select(func.count()).select_from(AnswerTemplate))
    response = client.post(URL, json={"name": "Farlig", "body": body},
                           headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    error = response.get_json()["errors"][0]
    assert error["field"] == "body" and problem in error["message"], error
    assert session.scalar(select(func.count()).select_from(AnswerTemplate)) == before


def test_bad_input_is_named(client, tokens):
    template = _template(client, tokens)
    for payload, field in (({"body": "Hej"}, "name"), ({"name": "x"}, "body"),
                           ({"name": "x", "body": "Hej", "channel": "fax"}, "channel"),
                           ({"name": "x", "body": "Hej", "category": "finns-ej"}, "category"),
                           ({"name": "x", "body": "Hej", "extra": 1}, "extra")):
        response = client.post(URL, json=payload, headers=bearer(tokens["supervisor"]))
        assert response.status_code == 422, (payload, response.get_json())
        assert field in {e["field"] for e in response.get_json()["errors"]}, payload
    response = client.patch(f"{URL}/{template['id']}", json={},
                            headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422
    response = client.patch(f"{URL}/{template['id']}", json={"body": "{{ x.y }}"},
                            headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "body"


def test_the_sandbox_itself_reaches_no_attribute():
    # Even past the save-time check, the environment refuses attributes and unsafe names.
    with pytest.raises(Exception) as caught:
        filling.ENV.from_string("{{ citizen_name.__class__.__mro__ }}").render(
            citizen_name="Eva")
    assert "__class__" in str(caught.value) or "unsafe" in str(caught.value).lower()
    with pytest.raises(InvalidInput):
        filling.fill("{{ cycler.__init__.__globals__ }}", {})


def test_opening_hours_read_as_swedish():
    assert describe({"monday": ["08:00-17:00"], "tuesday": ["08:00-17:00"],
                     "wednesday": ["08:00-17:00"], "thursday": ["08:00-18:00"],
                     "friday": ["08:00-12:00", "13:00-16:00"]}) == (
        "måndag–onsdag 08:00–17:00; torsdag 08:00–18:00; fredag 08:00–12:00, 13:00–16:00")
    assert describe({}) == "stängt"


def test_preview_fills_the_fields_for_the_case(client, tokens, session):
    template = _template(client, tokens)
    case = create_case(client, tokens["guide"], contact={
        "name": "Karin Ek 19121212-1212", "email": "karin.preview@example.se"})
    response = _preview(client, tokens["guide"], case["id"], template["id"])
    assert response.status_code == 200, response.get_json()
    text = response.get_json()["body"]
    assert text.startswith("Hej Karin Ek ")
    assert "19121212-1212" not in text and "19121212-XXXX" in text  # never in clear
    assert f"({case['reference']})" in text
    assert "måndag–fredag 08:00–17:00" in text  # the demo's office hours (kontorstid)
    assert text.endswith("ANNA LINDQVIST")
    # Nothing sent: the conversation holds the citizen's message alone.
    assert session.scalar(select(func.count()).select_from(Message).where(
        Message.case_id == __import__("uuid").UUID(case["id"]))) == 1


def test_preview_follows_the_access_rules_of_the_case(client, tokens):
    template = _template(client, tokens)
    case = create_case(client, tokens["guide"])
    # Department staff see only cases forwarded to their department: not even that it exists.
    assert _preview(client, tokens["department"], case["id"], template["id"]).status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert _preview(client, tokens["guide"], missing, template["id"]).status_code == 404
    assert _preview(client, tokens["guide"], case["id"], 999999).status_code == 404
    # A template of another channel or category, or an inactive one, does not answer it.
    other = _template(client, tokens, name="Telefon", channel="phone")
    response = _preview(client, tokens["guide"], case["id"], other["id"])
    assert response.status_code == 422 and "phone" in response.get_json()["detail"]
    client.patch(f"{URL}/{template['id']}", json={"active": False},
                 headers=bearer(tokens["supervisor"]))
    assert _preview(client, tokens["guide"], case["id"], template["id"]).status_code == 422


def test_a_reply_sent_with_a_template_records_it(client, tokens, session):
    template = _template(client, tokens)
    case = create_case(client, tokens["guide"])
    url = f"/api/v1/cases/{case['id']}/answer-templates/{template['id']}/replies"
    response = client.post(url, json={}, headers=bearer(tokens["guide"]))
    assert response.status_code == 201, response.get_json()
    message = response.get_json()
    assert message["direction"] == "outbound" and message["body"].startswith("Hej Karin Ek!")
    assert message["channel_metadata"]["answer_template"] == {
        "id": template["id"], "name": "Bygglov: tack"}
    edited = client.post(url, json={"body": "Hej Karin, se bifogad länk."},
                         headers=bearer(tokens["guide"])).get_json()
    assert edited["body"] == "Hej Karin, se bifogad länk."
    assert edited["channel_metadata"]["answer_template"]["id"] == template["id"]
    listed = client.get(f"/api/v1/cases/{case['id']}/messages",
                        headers=bearer(tokens["guide"])).get_json()["items"]
    assert [m["channel_metadata"].get("answer_template", {}).get("id") for m in listed] == [
        None, template["id"], template["id"]]
    # A client cannot claim a template answered through the plain messages endpoint.
    forged = client.post(f"/api/v1/cases/{case['id']}/messages", headers=bearer(
        tokens["guide"]), json={"direction": "outbound", "body": "x",
                                "channel_metadata": {"answer_template": {"id": 1}}})
    assert forged.status_code == 422
    assert client.post(url, json={}, headers=bearer(tokens["department"])).status_code == 404


def _article(session, title, body, audience) -> int:
    supervisor = Principal(actor="user:test", scopes=frozenset({"cases:write"}),
                           role=Role.SUPERVISOR)
    return knowledge.create_article(session, supervisor, title=title, body=body,
                                    category=None, department="stadsbyggnad",
                                    audience=audience).id


def test_a_template_quotes_a_public_knowledge_article(client, tokens, session):
    public = _article(session, "Bygglov för plank", "Plank över 1,1 meter kräver bygglov.",
                      "public")
    internal = _article(session, "Internt: handläggning", "Ring handläggaren direkt.",
                        "internal")
    template = _template(client, tokens, body="Hej {{ citizen_name }}!\n\n"
                                              f"{{{{ article({public}) }}}}")
    case = create_case(client, tokens["guide"])
    text = _preview(client, tokens["guide"], case["id"], template["id"]).get_json()["body"]
    assert text == ("Hej Karin Ek!\n\nBygglov för plank\n\n"
                    "Plank över 1,1 meter kräver bygglov.")

    for body, problem in ((f"{{{{ article({internal}) }}}}", "internal"),
                          ("{{ article(999999) }}", "no such knowledge article"),
                          ("{{ article('1') }}", "not call"),
                          (f"{{{{ article({public}).title }}}}", "attribute and item access")):
        response = client.post(URL, json={"name": "Citat", "body": body},
                               headers=bearer(tokens["supervisor"]))
        assert response.status_code == 422, body
        assert problem in response.get_json()["errors"][0]["message"], body


def test_a_confidential_case_is_answered_only_by_those_who_may_read_it(client, tokens):
    template = _template(client, tokens)
    case = create_case(client, tokens["guide"])
    marked = client.put(f"/api/v1/cases/{case['id']}/confidentiality",
                        json={"reason": "26 kap. 1 § OSL"}, headers=bearer(tokens["supervisor"]))
    assert marked.status_code == 200, marked.get_json()
    refused = _preview(client, tokens["guide"], case["id"], template["id"])
    assert refused.status_code == 403 and refused.get_json()["title"] == "Confidential case"
    url = f"/api/v1/cases/{case['id']}/answer-templates/{template['id']}/replies"
    assert client.post(url, json={}, headers=bearer(tokens["guide"])).status_code == 403
    allowed = _preview(client, tokens["supervisor"], case["id"], template["id"])
    assert allowed.status_code == 200 and "Karin Ek" in allowed.get_json()["body"]
