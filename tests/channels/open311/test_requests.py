"""Open311 GeoReport v2 in process: POST requests becomes a case, the error list, reading back."""

import json
import uuid
import xml.etree.ElementTree as ET

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select, update

from citizencenter.cases.models import Case, Message
from citizencenter.channels.open311.models import Open311Request
from citizencenter.cli import cli
from citizencenter.contacts.models import Contact
from citizencenter.organisation.models import Category
from citizencenter.routing.service import route_case
from tests.channels.open311.conftest import publish_lamps
from tests.factories import bearer

V2 = "/open311/v2"
# The spec's elements of a service request, in its order; an answer holds no others.
REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name",
                    "service_code", "agency_responsible", "service_notice",
                    "requested_datetime", "updated_datetime", "expected_datetime", "address",
                    "address_id", "zipcode", "lat", "long", "media_url"]


def _report(client, api_key, code, suffix=".json", **fields):
    form = {"api_key": api_key, "service_code": code, "lat": "55.7047", "long": "13.1910",
            "address_string": "Bytaregatan 4, Lund", "attribute[lampa]": "gatlampa",
            "first_name": "Karin", "last_name": "Ek", "email": "karin.ek.o311@example.se",
            "phone": "070-123 45 67", "description": "Lampan lyser inte.", **fields}
    return client.post(f"{V2}/requests{suffix}", data={k: v for k, v in form.items()
                                                       if v is not None})


def test_a_report_becomes_a_case_with_its_position(client, session, tokens, lamps, api_key):
    answer = _report(client, api_key, lamps.service_code, **{
        "attribute[stolpe]": "L-1234", "media_url": "https://foto.example/lampa.jpg",
        "description": "Lampan lyser inte. Mitt personnummer är 19121212-1212."})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    receipt = answer.get_json()[0]
    case = session.scalar(select(Case).where(Case.reference == receipt["service_request_id"]))
    assert case.category.slug == lamps.slug and case.channel.value == "webform"
    assert (case.latitude, case.longitude) == (55.7047, 13.191)
    assert case.address == "Bytaregatan 4, Lund"
    assert case.contact.name == "Karin Ek" and case.contact.email == "karin.ek.o311@example.se"
    body = session.scalar(select(Message.body).where(Message.case_id == case.id))
    assert "19121212-XXXX" in body and "1212." not in body.replace("19121212", "")
    assert "Vilken lampa?: Gatlampa" in body and "Stolpens nummer: L-1234" in body
    kept = session.scalar(select(Open311Request).where(Open311Request.case_id == case.id))
    assert kept.attributes == {"lampa": "gatlampa", "stolpe": "L-1234"}
    # The case API shows the position.
    shown = client.get(f"/api/v1/cases/{case.id}", headers=bearer(tokens["supervisor"]))
    assert shown.get_json()["location"] == {"latitude": 55.7047, "longitude": 13.191,
                                            "address": "Bytaregatan 4, Lund"}
    # The token stands for the same request.
    by_token = client.get(f"{V2}/tokens/{receipt['token']}.json").get_json()
    assert by_token == [{"service_request_id": case.reference, "token": receipt["token"]}]


def test_the_error_list_in_both_formats(client, session, lamps, api_key):
    bad_key = _report(client, "cc_not-a-key", lamps.service_code)
    assert bad_key.status_code == 403
    assert bad_key.get_json() == [{"code": 403, "description": "api_key is not valid."}]
    missing_key = _report(client, None, lamps.service_code, suffix=".xml")
    assert missing_key.status_code == 403 and missing_key.mimetype == "text/xml"
    errors = ET.fromstring(missing_key.data)
    assert errors.tag == "errors" and [e.tag for e in errors] == ["error"]
    assert [c.tag for c in errors[0]] == ["code", "description"]
    assert errors[0].findtext("code") == "403"
    unknown = _report(client, api_key, "finns-inte")
    assert unknown.status_code == 404
    assert unknown.get_json()[0]["description"] == "service_code 'finns-inte' was not found."
    no_lamp = _report(client, api_key, lamps.service_code, **{"attribute[lampa]": None})
    assert no_lamp.status_code == 400
    assert no_lamp.get_json() == [{"code": 400, "description":
                                   "attribute[lampa] is required: Vilken lampa?"}]
    wrong_lamp = _report(client, api_key, lamps.service_code, format="xml",
                         suffix="", **{"attribute[lampa]": "fyr"})
    assert wrong_lamp.status_code == 400 and ET.fromstring(wrong_lamp.data).tag == "errors"
    nowhere = _report(client, api_key, lamps.service_code, lat=None, long=None,
                      address_string=None)
    assert nowhere.status_code == 400 and "lat" in nowhere.get_json()[0]["description"]
    other_place = client.get(f"{V2}/services.json?jurisdiction_id=malmo.se")
    assert other_place.status_code == 404
    assert client.get(f"{V2}/services.json?jurisdiction_id=lund.se").status_code == 200
    assert session.scalar(select(Case.id).where(Case.category_id == lamps.id)) is None


def test_a_key_without_the_open311_scope_is_refused(client, tokens, lamps):
    refused = _report(client, tokens["integration"], lamps.service_code)
    assert refused.status_code == 403


def test_posts_are_rate_limited_per_key(client, app, lamps, api_key):
    app.config["OPEN311_RATE_LIMIT"] = 2
    try:
        answers = [_report(client, api_key, lamps.service_code) for _ in range(3)]
    finally:
        app.config["OPEN311_RATE_LIMIT"] = 60
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].get_json()[0]["code"] == 429 and answers[2].headers["Retry-After"]


def test_reading_requests_back_never_shows_the_citizen(client, session, lamps, api_key):
    reference = _report(client, api_key, lamps.service_code).get_json()[0]["service_request_id"]
    one = client.get(f"{V2}/requests/{reference}.xml")
    root = ET.fromstring(one.data)
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    assert [e.tag for e in root[0]] == REQUEST_ELEMENTS
    assert root[0].findtext("status") == "open" and root[0].findtext("lat") == "55.7047"
    assert root[0].findtext("service_code") == lamps.service_code
    text = one.get_data(as_text=True)
    for private in ("Karin", "karin.ek.o311", "+46701234567", "Lampan lyser inte"):
        assert private not in text
    # A protected contact's or a confidential case's request: the reference and status alone.
    case = session.scalar(select(Case).where(Case.reference == reference))
    session.execute(update(Contact).where(Contact.id == case.contact_id)
                    .values(protection="sekretessmarkering"))
    session.commit()
    assert client.get(f"{V2}/requests/{reference}.json").get_json() == [
        {"service_request_id": reference, "status": "open"}]
    assert client.get(f"{V2}/requests/MC-1999-000001.json").status_code == 404


def test_requests_filtered_by_code_status_and_dates(client, session, lamps, api_key):
    first = _report(client, api_key, lamps.service_code).get_json()[0]["service_request_id"]
    second = _report(client, api_key, lamps.service_code).get_json()[0]["service_request_id"]
    session.execute(update(Case).where(Case.reference == second).values(status="resolved"))
    session.commit()
    listed = client.get(f"{V2}/requests.json?service_code={lamps.service_code}").get_json()
    assert {r["service_request_id"] for r in listed} == {first, second}
    closed = client.get(f"{V2}/requests.json?service_code={lamps.service_code}"
                        "&status=closed").get_json()
    assert [(r["service_request_id"], r["status"]) for r in closed] == [(second, "closed")]
    by_id = client.get(f"{V2}/requests.json?service_request_id={first},{second}"
                       "&status=closed").get_json()  # ids override the other filters
    assert {r["service_request_id"] for r in by_id} == {first, second}
    past = client.get(f"{V2}/requests.json?service_code={lamps.service_code}"
                      "&start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z")
    assert past.status_code == 200 and past.get_json() == []
    too_wide = client.get(f"{V2}/requests.json?start_date=2020-01-01T00:00:00Z"
                          "&end_date=2020-06-01T00:00:00Z")
    assert too_wide.status_code == 400


def test_services_and_a_definition_in_xml(client, lamps):
    services = ET.fromstring(client.get(f"{V2}/services.xml").data)
    assert services.tag == "services"
    ours = next(s for s in services if s.findtext("service_code") == lamps.service_code)
    assert [e.tag for e in ours] == ["service_code", "service_name", "description", "metadata",
                                     "type", "keywords", "group"]
    assert ours.findtext("metadata") == "true" and ours.findtext("type") == "realtime"
    definition = ET.fromstring(client.get(f"{V2}/services/{lamps.service_code}"
                                          "?format=xml").data)
    assert definition.tag == "service_definition"
    attribute = definition.find("attributes/attribute")
    assert [e.tag for e in attribute] == ["variable", "code", "datatype", "required",
                                          "datatype_description", "order", "description",
                                          "values"]
    assert [v.findtext("key") for v in attribute.find("values")] == ["gatlampa", "parklampa"]
    assert client.get(f"{V2}/services/finns-inte.json").status_code == 404


def _routed(client, session, api_key, code) -> Case:
    reference = _report(client, api_key, code).get_json()[0]["service_request_id"]
    case = session.scalar(select(Case).where(Case.reference == reference))
    route_case(session, case.id)
    session.refresh(case)
    return case


def test_a_routing_rule_matches_a_service_code(client, session, tokens, lamps, api_key):
    refused = client.post("/api/v1/routing/rules", headers=bearer(tokens["supervisor"]), json={
        "name": "Okänd", "position": 1, "conditions": {"service_codes": ["finns-inte"]},
        "actions": {"queue": "bygglov"}})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "conditions.service_codes"
    created = client.post("/api/v1/routing/rules", headers=bearer(tokens["supervisor"]), json={
        "name": "Gatubelysning", "position": 1,
        "conditions": {"service_codes": [lamps.service_code]},
        "actions": {"queue": "bygglov", "priority": "high"}})
    assert created.status_code == 201, created.get_json()
    case = _routed(client, session, api_key, lamps.service_code)
    assert case.queue.slug == "bygglov" and case.priority.value == "high"
    other = publish_lamps(session)  # another service: the rule leaves its cases alone
    assert _routed(client, session, api_key, other.service_code).priority.value == "normal"


def test_publish_open311_service_from_the_command_line(app, session, client, tmp_path):
    session.add(Category(slug=f"klotter-{uuid.uuid4().hex[:6]}", name="Klotter"))
    session.commit()
    slug = session.scalar(select(Category.slug).where(Category.name == "Klotter")
                          .order_by(Category.id.desc()))
    definition = tmp_path / "klotter.json"
    definition.write_text(json.dumps([{"code": "yta", "datatype": "singlevaluelist",
                                       "required": True, "description": "Var sitter det?",
                                       "values": [{"key": "vagg", "name": "Vägg"}]}]))
    code = f"klotter-{uuid.uuid4().hex[:6]}"
    result = CliRunner().invoke(cli, ["publish-open311-service", "--category", slug, "--code",
                                      code, "--group", "Gator och trafik", "--keywords",
                                      "klotter,graffiti", "--attributes", str(definition)],
                                obj=ScriptInfo(create_app=lambda: app),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = client.get(f"{V2}/services.json").get_json()
    assert {"service_code": code, "service_name": "Klotter", "description": "Klotter",
            "metadata": True, "type": "realtime", "keywords": "klotter, graffiti",
            "group": "Gator och trafik"} in listed
    definition.write_text(json.dumps([{"code": "yta", "datatype": "singlevaluelist"}]))
    refused = CliRunner().invoke(cli, ["publish-open311-service", "--category", slug,
                                       "--code", code, "--attributes", str(definition)],
                                 obj=ScriptInfo(create_app=lambda: app))
    assert refused.exit_code != 0 and "values" in refused.output


def test_create_open311_key_prints_the_key_alone(app, session, client, lamps):
    result = CliRunner().invoke(cli, ["create-open311-key", "--name", f"App {uuid.uuid4()}"],
                                obj=ScriptInfo(create_app=lambda: app),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert " " not in key
    assert _report(client, key, lamps.service_code).status_code == 201


def test_the_case_page_shows_the_position(app, client, session, lamps, api_key):
    from citizencenter.accounts.models import User
    from citizencenter.accounts.passwords import hash_password
    from citizencenter.web.signin import _KEY

    reference = _report(client, api_key, lamps.service_code).get_json()[0]["service_request_id"]
    case = session.scalar(select(Case).where(Case.reference == reference))
    guide = session.scalar(select(User).where(User.email == "maria.svensson@lund.example"))
    guide.password_hash = hash_password("rätt-lösenord-för-test")  # may sign in (rolled back)
    session.flush()
    sid = uuid.uuid4().hex
    app.extensions["web_redis"].set(_KEY + sid, guide.id, ex=300)
    with client.session_transaction() as web_session:
        web_session["sid"] = sid
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="location-heading"' in html and "Bytaregatan 4, Lund" in html
    assert "55.704700, 13.191000" in html


def test_the_demo_publishes_street_lighting(client):
    lighting = client.get(f"{V2}/services/gatubelysning.json").get_json()
    assert lighting["attributes"][0]["description"] == "Vilken lampa?"
    assert "nedskrapning" in {s["service_code"] for s in client.get(f"{V2}/services").get_json()}
