"""The routing administration's API additions: a dry run of the router
(POST /api/v1/routing/rules/dry-run) that stores nothing, and moving a rule up or down
(POST /api/v1/routing/rules/<id>/move), versioned and audited."""

import itertools
import re

import pytest
from sqlalchemy import func, select, update

from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.cases.models import Case
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.organisation.models import ChannelDefaultQueue, Queue
from citizencenter.routing.models import RoutingDecision, RoutingRule, RoutingRuleVersion
from citizencenter.routing.service import route_case
from tests.factories import bearer
from tests.web.conftest import assert_accessible, screenshot, sign_in

RULES = "/api/v1/routing/rules"
_n = itertools.count(1)


@pytest.fixture
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
        client, tokens, session, no_other_rules):
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


def test_dry_run_reads_the_sender_as_intake_would(client, tokens, session, no_other_rules):
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


def test_dry_run_refuses_bad_input_and_needs_routing_read(client, tokens, no_other_rules):
    bad = _dry(client, tokens["supervisor"], subject="x", channel="email", sender="inte ett nr")
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "sender"
    assert _dry(client, tokens["supervisor"], subject="", channel="fax").status_code == 422
    assert _dry(client, tokens["guide"], subject="x", channel="email").status_code == 403


def test_moving_a_rule_changes_which_wins_with_a_version_and_an_audit_row(
        client, tokens, session, no_other_rules):
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


def test_moving_rules_on_the_same_position_numbers_them_apart(client, tokens, no_other_rules):
    token = tokens["supervisor"]
    a = _rule(client, token, name="A", position=5)
    b = _rule(client, token, name="B", position=5)
    moved = client.post(f"{RULES}/{b['id']}/move", json={"direction": "up"},
                        headers=bearer(token)).get_json()["items"]
    assert [(r["id"], r["position"]) for r in moved] == [(b["id"], 10), (a["id"], 20)]


def test_moving_refuses_bad_input_unknown_rules_and_guides(client, tokens, no_other_rules):
    token = tokens["supervisor"]
    rule = _rule(client, token)
    assert client.post(f"{RULES}/{rule['id']}/move", json={"direction": "sideways"},
                       headers=bearer(token)).status_code == 422
    assert client.post(f"{RULES}/999999/move", json={"direction": "up"},
                       headers=bearer(token)).status_code == 404
    assert client.post(f"{RULES}/{rule['id']}/move", json={"direction": "up"},
                       headers=bearer(tokens["guide"])).status_code == 403


# The page, /admin/routing-rules, in a real browser against the live server.

@pytest.fixture
def api(app, committed):
    """The API as the supervisor, on committed data the live server sees."""
    from citizencenter.accounts import service as accounts

    token = accounts.create_token(committed, "fördelningsregler",
                                  user_email="maria.svensson@lund.example")[1]
    committed.commit()
    client = app.test_client()

    def call(method: str, path: str, **kwargs):
        response = client.open(path, method=method, headers=bearer(token), **kwargs)
        committed.rollback()  # SQLite: no read left open under the browser's writes
        assert response.status_code < 300, response.get_json()
        return response.get_json()

    return call


@pytest.fixture
def only_page_rules(committed, engine):
    """The rules live before the test are set aside, and those it made retired after."""
    from sqlalchemy import text

    with engine.begin() as conn:
        before = [row[0] for row in conn.execute(
            text("SELECT id FROM routing_rules WHERE retired_at IS NULL"))]
        conn.execute(text("UPDATE routing_rules SET retired_at = :now WHERE retired_at IS NULL"),
                     {"now": utcnow()})
    yield
    committed.rollback()
    with engine.begin() as conn:
        conn.execute(text("UPDATE routing_rules SET retired_at = :now WHERE retired_at IS NULL"),
                     {"now": utcnow()})
        for rule_id in before:
            conn.execute(text("UPDATE routing_rules SET retired_at = NULL WHERE id = :id"),
                         {"id": rule_id})


def _route(committed, api, subject: str, channel: str = "email") -> dict:
    """A case made through the API and placed by the real router."""
    from citizencenter.routing.service import route_pending

    case = api("POST", "/api/v1/cases", json={"channel": channel, "subject": subject,
                                              "description": "Fråga från en invånare."})
    route_pending(committed)
    committed.rollback()
    return api("GET", f"/api/v1/cases/{case['id']}")


def _audit(committed, action: str, rule_id: int) -> list:
    from citizencenter.accounts.models import User

    committed.rollback()
    maria = committed.scalar(select(User.id).where(User.email == "maria.svensson@lund.example"))
    entries = committed.scalars(select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.entity_id == str(rule_id),
        AuditEntry.actor == f"user:{maria}")).all()
    committed.rollback()
    return entries


def _new_rule(page, name: str, keyword: str, position: int, *, queue: str | None = None,
              department: str | None = None):
    page.get_by_role("link", name="Ny regel").click()
    page.get_by_role("heading", level=1, name="Ny fördelningsregel").wait_for()
    page.get_by_label("Namn").fill(name)
    page.get_by_label("Plats").fill(str(position))
    page.get_by_label("Sökord").fill(keyword)
    if queue:
        page.get_by_label("Till en kö").check()
        page.get_by_label("Kö", exact=True).select_option(label=queue)
    if department:
        page.get_by_label("Vidare till en förvaltning").check()
        page.get_by_label("Förvaltning", exact=True).select_option(label=department)
    page.get_by_role("button", name="Spara regeln").click()
    page.get_by_role("status").filter(has_text="Regeln är sparad.").wait_for()


def _test_box(page, subject: str, channel: str = "E-post", sender: str = "") -> str:
    page.get_by_label("Ämne").fill(subject)
    page.get_by_label("Kanal").select_option(label=channel)
    page.get_by_label("Avsändare (e-post eller telefon)").fill(sender)
    page.get_by_role("button", name="Testa", exact=True).click()
    result = page.locator(".routing-result")
    result.wait_for()
    return result.inner_text()


def test_rules_page_creates_moves_tests_and_versions_rules_that_route_cases(
        api, committed, only_page_rules, supervisor_page, new_page, live_server):
    suffix = next(_n)
    page = supervisor_page
    page.goto("/admin")
    page.get_by_role("link", name="Fördelningsregler").click()
    page.get_by_role("heading", level=1, name="Fördelningsregler").wait_for()
    assert_accessible(page)

    # A rule made through the page: in the API, audited, and it routes the next case.
    school = f"Parkering till skolan {suffix}"
    _new_rule(page, school, "felparkerad", 10, queue="Förskola och skola")
    listed = api("GET", RULES)["items"]
    assert [(r["name"], r["conditions"], r["actions"]) for r in listed] == [
        (school, {"keywords": ["felparkerad"]}, {"queue": "skola"})]
    school_id = listed[0]["id"]
    assert _audit(committed, "routing_rule.created", school_id)
    case = _route(committed, api, "Bil felparkerad utanför förskolan")
    assert case["queue"] == "skola"

    # A second rule for the same word, later in the order, naming a department.
    street = f"Parkering till tekniska {suffix}"
    _new_rule(page, street, "felparkerad\nparkering", 20, department="Tekniska förvaltningen")
    text = _test_box(page, "Bil felparkerad på gatan", sender=f"test{suffix}@example.se")
    assert school in text and "Sökord: felparkerad" in text
    assert "Ärendet skulle hamna i kön ”Förskola och skola”." in text
    assert "inget ärende skapades" in text
    screenshot(page, "admin-routing-rules")

    # Moving the second rule up: it wins in Testa and in real routing, with a new version.
    page.get_by_role("button", name=f"Flytta upp: {street}").click()
    page.get_by_role("status").filter(has_text="Ordningen är ändrad.").wait_for()
    rows = page.get_by_role("table").locator("tbody tr")
    assert street in rows.nth(0).inner_text() and school in rows.nth(1).inner_text()
    assert "Förvaltning: Tekniska förvaltningen" in rows.nth(0).inner_text()
    assert "Kö: Förskola och skola" in rows.nth(1).inner_text()
    assert [r["name"] for r in api("GET", RULES)["items"]] == [street, school]
    text = _test_box(page, "Bil felparkerad på gatan")
    assert street in text and "skickas vidare till Tekniska förvaltningen" in text
    case = _route(committed, api, "Bil felparkerad på gatan")
    assert case["department"] == "tekniska"
    street_id = next(r["id"] for r in api("GET", RULES)["items"] if r["name"] == street)
    assert _audit(committed, "routing_rule.moved", street_id)

    # The versions side by side: the move made version 2, an edit version 3.
    page.get_by_role("link", name=street).click()
    page.get_by_role("heading", level=1, name=f"Regel: {street}").wait_for()
    page.get_by_label("Namn").fill(f"{street} (ändrad)")
    page.get_by_role("button", name="Spara regeln").click()
    page.get_by_role("status").filter(has_text="Regeln är sparad.").wait_for()
    versions = api("GET", f"{RULES}/{street_id}/versions")["items"]
    assert [(v["version"], v["position"], v["name"]) for v in versions] == [
        (1, 20, street), (2, 10, street), (3, 10, f"{street} (ändrad)")]
    assert _audit(committed, "routing_rule.changed", street_id)
    page.get_by_role("link", name=f"{street} (ändrad)").click()
    table = page.get_by_role("table", name=re.compile("Regelns versioner"))
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).get_by_role("rowheader").inner_text() == "3"
    assert rows.nth(0).locator("td").nth(1).inner_text() == "Namn"
    assert rows.nth(1).locator("td").nth(1).inner_text() == "Ordning"
    assert_accessible(page)
    screenshot(page, "admin-routing-rule-versions")

    # A bad rule keeps what was typed and says what is wrong next to the field.
    page.goto("/admin/routing-rules/new")
    page.get_by_label("Namn").fill("Utan mål")
    page.get_by_label("Språk", exact=True).fill("Svenska")
    page.get_by_role("button", name="Spara regeln").click()
    page.get_by_role("alert").wait_for()
    languages = page.get_by_label("Språk", exact=True)
    assert languages.get_attribute("aria-invalid") == "true"
    assert "Ange språkkoder" in page.locator(
        "#" + languages.get_attribute("aria-describedby").split()[-1]).inner_text()
    assert page.get_by_label("Namn").input_value() == "Utan mål"
    page.get_by_label("Språk", exact=True).fill("sv")
    page.get_by_role("button", name="Spara regeln").click()
    page.get_by_role("alert").wait_for()
    target = page.get_by_role("group", name="Vart ärendet går")
    assert "Välj en kö eller en förvaltning" in target.inner_text()
    assert_accessible(page)
    screenshot(page, "admin-routing-rule-errors")
    assert [r["name"] for r in api("GET", RULES)["items"]] == [f"{street} (ändrad)", school]

    # Retiring the rule through the page: the API no longer lists it.
    page.goto(f"/admin/routing-rules/{school_id}")
    page.get_by_role("button", name="Ta bort regeln").click()
    page.get_by_role("heading", level=1, name="Fördelningsregler").wait_for()
    assert [r["name"] for r in api("GET", RULES)["items"]] == [f"{street} (ändrad)"]

    # Guides are refused, reading and writing.
    guide = sign_in(new_page(), "guide")
    assert guide.request.get("/admin/routing-rules").status == 403
    assert guide.request.get(f"/admin/routing-rules/{street_id}").status == 403
    guide.goto("/admin")
    assert guide.get_by_role("link", name="Fördelningsregler").count() == 0


def test_rules_page_at_320_px_and_a_bad_test_input(supervisor_page, live_server):
    page = supervisor_page
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/admin/routing-rules")
    page.get_by_label("Ämne").fill("Hej")
    page.get_by_label("Avsändare (e-post eller telefon)").fill("inte ett nummer")
    page.get_by_role("button", name="Testa", exact=True).click()
    sender = page.get_by_label("Avsändare (e-post eller telefon)")
    sender.wait_for()
    assert sender.get_attribute("aria-invalid") == "true"
    assert page.locator("#sender-error").inner_text() == \
        "Ange en e-postadress eller ett telefonnummer."
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
