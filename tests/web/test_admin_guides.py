"""/admin/guides in a real browser: a supervisor changes a guide's capacity per channel on the
page; the API shows it, the phone system's "who should take this call" stops offering the
guide a call at capacity 0, the change is audited, and a guide may not open the page."""

import uuid

import pytest
from sqlalchemy import delete, select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.cases.models import Case
from citizencenter.channels.phone import service as phone
from citizencenter.channels.phone.models import PbxAgent
from citizencenter.organisation.models import Queue
from citizencenter.routing import presence
from citizencenter.routing.models import GuideProfile, Presence, RoutingDecision
from tests.factories import bearer
from tests.web.conftest import USERS, assert_accessible, screenshot


@pytest.fixture
def spare_guide(committed):
    """A guide of this test alone: available, on a PBX agent id, phone capacity 1."""
    suffix = uuid.uuid4().hex[:8]
    user = accounts.create_user(committed, f"guide.{suffix}@lund.example",
                                f"Testguide {suffix}", "guide")
    profile = presence.ensure_profile(committed, user.id)
    profile.capacities = {**profile.capacities, "phone": 1}
    profile.presence, profile.queue_ids = Presence.AVAILABLE, []
    committed.commit()
    agent = f"PJSIP/test-{suffix}"
    phone.map_agent(committed, agent, user.email)
    yield user.id, user.name, agent
    # Out of routing for the tests after this one.
    committed.rollback()
    committed.execute(delete(PbxAgent).where(PbxAgent.agent_id == agent))
    committed.get(GuideProfile, user.id).presence = Presence.OFFLINE
    committed.get(User, user.id).active = False
    committed.commit()


@pytest.fixture
def supervisor_token(committed):
    return accounts.create_token(committed, f"test supervisor {uuid.uuid4().hex[:6]}",
                                 user_email=USERS["supervisor"][0])[1]


def _phone_queue(session) -> str:
    return session.scalar(select(Queue.slug).where(Queue.department_id.is_(None))
                          .order_by(Queue.id))


def _offered(page, token, queue: str, session, user_id: int) -> bool:
    """Ask the real router who should take a call; was our guide among those that fit?"""
    response = page.request.post("/api/v1/routing/decide", headers=bearer(token),
                                 data={"caller": None, "queue": queue})
    assert response.status == 200, response.text()
    session.rollback()
    decision = session.scalar(select(RoutingDecision).where(
        RoutingDecision.kind == "call_decision").order_by(RoutingDecision.id.desc()))
    offered = user_id in [c["user_id"] for c in decision.candidates]
    session.rollback()  # an open SQLite read holds the write lock the pages need
    return offered


def test_capacity_zero_on_the_page_stops_calls_being_offered(
        supervisor_page, committed, spare_guide, supervisor_token):
    user_id, name, _agent = spare_guide
    page = supervisor_page
    queue = _phone_queue(committed)
    committed.rollback()
    assert _offered(page, supervisor_token, queue, committed, user_id)

    page.goto("/admin/guides")
    assert page.get_by_role("heading", level=1).inner_text() == "Guider"
    assert_accessible(page)
    screenshot(page, "admin-guides")
    page.get_by_role("link", name=name).click()
    page.get_by_label("Kapacitet, Telefon").fill("0")
    page.get_by_label("Kapacitet, E-post").fill("7")
    assert_accessible(page)
    screenshot(page, "admin-guide-edit")
    page.get_by_role("button", name="Spara guiden").click()
    page.get_by_role("status").filter(has_text="Guiden är sparad").wait_for()

    api = page.request.get("/api/v1/routing/guides", headers=bearer(supervisor_token)).json()
    mine = next(g for g in api["items"] if g["user_id"] == user_id)
    assert mine["capacities"]["phone"] == 0 and mine["capacities"]["email"] == 7
    assert not _offered(page, supervisor_token, queue, committed, user_id)

    entry = committed.scalar(select(AuditEntry).where(
        AuditEntry.action == "guide.profile_changed", AuditEntry.entity_id == str(user_id))
        .order_by(AuditEntry.id.desc()))
    supervisor_id = committed.scalar(select(User.id).where(User.email == USERS["supervisor"][0]))
    assert entry.actor == f"user:{supervisor_id}"
    assert entry.data["new"]["capacities"]["phone"] == 0


def test_a_wrong_capacity_is_refused_with_the_typed_values_kept(supervisor_page, committed,
                                                                spare_guide):
    user_id, _name, _agent = spare_guide
    page = supervisor_page
    page.goto(f"/admin/guides/{user_id}")
    page.get_by_label("Kapacitet, Telefon").fill("99")
    page.get_by_label("Språk").fill("sv, en")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Spara guiden").click()
    assert answer.value.status == 422
    field = page.get_by_label("Kapacitet, Telefon")
    assert field.input_value() == "99"
    assert field.get_attribute("aria-invalid") == "true"
    assert "heltal från 0 till 50" in page.locator(
        "#" + field.get_attribute("aria-describedby").split()[-1]).inner_text()
    assert page.get_by_label("Språk").input_value() == "en, sv"
    assert_accessible(page)
    committed.rollback()
    assert committed.get(GuideProfile, user_id).capacities["phone"] == 1  # nothing saved


def test_the_page_shows_presence_history_and_the_agent_id(supervisor_page, committed,
                                                          spare_guide, supervisor_token):
    user_id, name, agent = spare_guide
    page = supervisor_page
    response = page.request.put(f"/api/v1/routing/guides/{user_id}/presence",
                                headers=bearer(supervisor_token), data={"presence": "away"})
    assert response.status == 200
    page.goto("/admin/guides")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=name))
    assert agent in row.inner_text()
    row.get_by_text("Senaste statusbyten").click()
    assert "Tillgänglig → Borta" in row.inner_text()


def test_a_supervisor_hands_back_the_cases_of_a_guide_who_went_home(
        supervisor_page, committed, spare_guide):
    user_id, name, _agent = spare_guide
    case = cases.open_case(committed, SYSTEM, channel=Channel.EMAIL, subject="Bygglov",
                           description="Hur går det med min ansökan?")
    case.assignee_id = user_id
    committed.commit()
    page = supervisor_page
    page.goto(f"/admin/guides/{user_id}")
    section = page.get_by_role("region", name="Har guiden gått för dagen?")
    assert "Olösta ärenden tilldelade guiden: 1." in section.inner_text()
    assert_accessible(page)
    screenshot(page, "admin-guide-hand-back")
    section.get_by_role("button", name="Logga ut guiden och lägg tillbaka ärendena i kön").click()
    page.get_by_role("status").filter(
        has_text=f"{name} är utloggad. Ärenden tillbaka i kön: 1.").wait_for()
    committed.expire_all()
    assert committed.get(Case, case.id).assignee_id is None
    assert committed.get(GuideProfile, user_id).presence == Presence.OFFLINE
    assert committed.scalar(select(RoutingDecision.reason).where(
        RoutingDecision.case_id == case.id, RoutingDecision.kind == "released")) == "handed_back"
    committed.rollback()


def test_a_guide_may_not_open_the_guides_page(guide_page):
    assert guide_page.goto("/admin/guides").status == 403
    assert guide_page.goto("/admin/guides/1").status == 403
    guide_page.goto("/")  # a valid form token: the refusal is the role's, not CSRF's
    token = guide_page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = guide_page.request.post("/admin/guides/1/hand-back", form={"csrf_token": token})
    assert refused.status == 403

