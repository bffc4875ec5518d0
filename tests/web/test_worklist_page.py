""""Mina ärenden", "Nästa ärende", search, the header's live parts and the screen pop, in a
real browser against the real app (and a real Celery worker where the pop needs one)."""

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from citizencenter.accounts.models import User
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call, PbxAgent
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.routing.models import GuideProfile, Presence
from tests.channels.phone.helpers import post_events
from tests.web.conftest import USERS, assert_accessible, screenshot
from tests.workspace.conftest import add_case, add_timer, department_id, queue_id

CALLER = "+46701234567"
# A number of this run alone: contacts outlive the tests, and a pop shows the first match.
POP_CALLER = f"+4646{time.time_ns() // 1000 % 10**7:07d}"


def _user_id(session, role: str) -> int:
    return session.scalar(select(User.id).where(User.email == USERS[role][0]))


def _waiting(session, queue: str, minutes_ago: float, **fields):
    return add_case(session, minutes_ago=minutes_ago, queue_id=queue_id(session, queue),
                    waiting_since=utcnow() - timedelta(minutes=minutes_ago), **fields)


def _rows(page) -> list[str]:
    """The worklist's rows as their first cells (subject and reference) read."""
    return page.get_by_role("main").get_by_role("table").get_by_role("rowheader").all_inner_texts()


def _subjects(page) -> list[str]:
    """The subjects alone (each row's link), whether or not the stylesheet has applied yet."""
    return [text.strip() for text in page.get_by_role("main").get_by_role("table")
            .get_by_role("rowheader").get_by_role("link").all_inner_texts()]


def test_the_worklist_shows_my_cases_most_urgent_first_with_sla_marks_filters_and_pages(
        committed, guide_page, live_server):
    session, page = committed, guide_page
    anna = _user_id(session, "guide")
    breached = add_case(session, minutes_ago=300, assignee_id=anna, subject="Bygglov Stora Tomten")
    add_timer(session, breached, due_in_min=-10, warn_in_min=-40)
    warned = _waiting(session, "epost", 200, channel="phone", subject="Parkering vid skolan")
    add_timer(session, warned, due_in_min=30, warn_in_min=-5)
    fine = add_case(session, minutes_ago=100, assignee_id=anna, subject="Fråga om avfall")
    add_timer(session, fine, due_in_min=120, warn_in_min=90)
    add_case(session, minutes_ago=10, assignee_id=anna, status="new", subject="Nytt ärende")
    session.commit()
    session.rollback()

    page.goto("/")
    assert _subjects(page) == ["Bygglov Stora Tomten", "Parkering vid skolan",
                               "Fråga om avfall", "Nytt ärende"]
    rows = page.get_by_role("main").get_by_role("row")
    assert "Överskriden" in rows.nth(1).inner_text()  # marked by text, not colour alone
    assert "Varning: nära gränsen" in rows.nth(2).inner_text()
    assert "I tid" in rows.nth(3).inner_text() and "Ingen tidsgräns" in rows.nth(4).inner_text()
    assert "Telefon" in rows.nth(2).inner_text() and "Väntar i kö" in rows.nth(2).inner_text()
    assert "5 h 0 min" in rows.nth(1).inner_text()  # the age
    assert "Väntande ärenden: 1" in page.get_by_role("banner").inner_text()
    assert page.get_by_text("Alt+Skift+N").is_visible()  # the shortcuts are documented
    assert page.get_by_text("Ctrl+Enter").is_visible()
    assert_accessible(page)
    screenshot(page, "worklist")
    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scroll
    assert_accessible(page)
    screenshot(page, "worklist-320px")
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_label("Kanal").select_option(label="Telefon")
    page.get_by_role("button", name="Filtrera").click()
    assert _subjects(page) == ["Parkering vid skolan"]
    page.get_by_label("Kanal").select_option(label="Alla")
    page.get_by_label("Ärendestatus").select_option(label="Ny")
    page.get_by_role("button", name="Filtrera").click()
    assert _subjects(page) == ["Nytt ärende"]
    assert page.url.endswith("/?status=new&channel=")

    # Live: a new case shows up without reload, and focus stays where the guide left it.
    page.goto("/")
    page.get_by_role("button", name="Filtrera").focus()
    add_case(session, minutes_ago=1, assignee_id=anna, subject="Kom in nyss")
    session.commit()
    session.rollback()
    page.get_by_role("link", name="Kom in nyss").wait_for(timeout=10_000)
    assert page.evaluate("document.activeElement.textContent") == "Filtrera"

    # Cursor pages of 25.
    for n in range(25):
        add_case(session, minutes_ago=2 + n, assignee_id=anna, subject=f"Sidfyllnad {n:02d}")
    session.commit()
    session.rollback()
    page.goto("/")
    first = _subjects(page)
    assert len(first) == 25 and first[:3] == ["Bygglov Stora Tomten", "Parkering vid skolan",
                                              "Fråga om avfall"]
    page.get_by_role("link", name="Nästa sida").click()
    second = _subjects(page)
    assert second == [f"Sidfyllnad {n}" for n in range(20, 25)]  # 30 cases in all
    assert page.get_by_role("link", name="Nästa sida").count() == 0
    page.get_by_role("link", name="Föregående").click()
    assert _subjects(page) == first
    assert page.get_by_role("link", name="Föregående").count() == 0


def test_next_case_takes_the_oldest_waiting_case_then_says_when_none_waits(
        committed, guide_page, live_server):
    session, page = committed, guide_page
    anna = _user_id(session, "guide")
    newer = _waiting(session, "epost", 5, subject="Nyare")
    older = _waiting(session, "epost", 50, subject="Äldre")
    session.commit()
    session.rollback()

    page.goto("/")
    page.get_by_role("button", name="Nästa ärende").click()
    page.wait_for_url(f"**/cases/{older}")
    assert session.get(Case, older).assignee_id == anna
    session.rollback()

    page.goto("/")
    page.keyboard.press("Alt+Shift+N")  # the documented shortcut
    page.wait_for_url(f"**/cases/{newer}")
    assert session.get(Case, newer).assignee_id == anna
    session.rollback()

    page.goto("/")
    page.get_by_role("button", name="Nästa ärende").click()
    assert "Inga ärenden väntar just nu" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("heading", level=1, name="Mina ärenden").is_visible()
    assert_accessible(page)
    screenshot(page, "worklist-nothing-waits")


def test_a_post_without_the_csrf_token_is_refused(committed, guide_page, live_server):
    session, page = committed, guide_page
    waiting = _waiting(session, "epost", 5)
    session.commit()
    session.rollback()
    refused = page.request.post(live_server("/next-case"), form={}, max_redirects=0)
    assert refused.status == 403
    assert session.get(Case, waiting).assignee_id is None


def test_search_finds_a_case_by_reference_phone_and_name(committed, guide_page, live_server):
    session, page = committed, guide_page
    karin = Contact(name="Karin Ek", phone=CALLER, email="karin.ek@example.org")
    session.add(karin)
    session.flush()
    case = add_case(session, minutes_ago=30, contact_id=karin.id, subject="Buller från fläkt")
    add_case(session, minutes_ago=20, subject="Något annat")
    reference = session.get(Case, case).reference
    session.commit()
    session.rollback()

    page.goto("/")
    box = page.get_by_role("banner").get_by_label("Sök")
    for text in (reference, "070-123 45 67", "Karin", "karin.ek@example.org", "fläkt"):
        box = page.get_by_role("banner").get_by_label("Sök")
        box.fill(text)
        box.press("Enter")
        page.wait_for_url(re.compile(r"/search\?q="))
        results = page.get_by_role("main")
        assert results.get_by_role("link", name="Buller från fläkt").is_visible(), text
        assert "Något annat" not in results.inner_text()
        assert "Karin Ek" in results.inner_text()
    assert_accessible(page)
    screenshot(page, "search")

    page.goto("/search?q=finns+inte+alls")
    assert "Inga ärenden hittades" in page.get_by_role("main").inner_text()
    page.goto("/search?q=" + "x" * 201)
    assert page.get_by_role("alert").inner_text() == "Sökningen får vara högst 200 tecken."

    for n in range(26):
        add_case(session, minutes_ago=40 + n, contact_id=karin.id, subject=f"Karins {n:02d}")
    session.commit()
    session.rollback()
    page.goto("/search?q=Karin")
    assert len(_rows(page)) == 25
    page.get_by_role("link", name="Nästa sida").click()
    assert _subjects(page) == ["Karins 24", "Karins 25"]
    page.get_by_role("link", name="Föregående").click()
    assert len(_rows(page)) == 25


def test_a_department_user_sees_only_their_departments_cases(
        committed, department_page, live_server):
    session, page = committed, department_page
    ours = add_case(session, minutes_ago=30, status="forwarded", subject="Bygglov på Norra",
                    department_id=department_id(session, "stadsbyggnad"))
    theirs = add_case(session, minutes_ago=20, status="forwarded", subject="Skolskjuts",
                      department_id=department_id(session, "utbildning"))
    reference = session.get(Case, theirs).reference
    session.commit()
    session.rollback()

    page.goto("/")
    assert _subjects(page) == ["Bygglov på Norra"]
    assert page.get_by_role("button", name="Nästa ärende").count() == 0  # no queues to take
    assert "Väntande ärenden: 1" in page.get_by_role("banner").inner_text()
    page.goto(f"/search?q={reference}")
    assert "Inga ärenden hittades" in page.get_by_role("main").inner_text()
    assert page.request.post(live_server("/next-case"), headers={
        "X-CSRFToken": page.locator('meta[name="csrf-token"]').get_attribute("content")},
        max_redirects=0).status == 403
    assert session.get(Case, ours).assignee_id is None
    assert_accessible(page)
    screenshot(page, "worklist-department")


@pytest.fixture
def pbx_agent(committed, engine):
    """Anna answers calls as PJSIP/anna; removed (with her presence reset) afterwards."""
    from citizencenter.outbox import KICK_KEY, get_publisher

    get_publisher().redis.delete(KICK_KEY)  # a kick a stopped worker took mutes kicks a while
    anna = _user_id(committed, "guide")
    committed.add(PbxAgent(agent_id="PJSIP/anna", user_id=anna))
    committed.commit()
    yield anna
    committed.rollback()
    committed.execute(delete(PbxAgent).where(PbxAgent.user_id == anna))
    profile = committed.get(GuideProfile, anna)
    profile.presence = Presence.OFFLINE
    committed.execute(Case.__table__.update().where(Case.assignee_id == anna)
                      .values(assignee_id=None))
    committed.commit()


def _call_events(call_id: str, caller: str | None) -> list[dict]:
    now = utcnow()
    return [{"event_id": f"{kind}-{call_id}-{time.monotonic_ns()}", "source": "pbx",
             "type": kind, "occurred_at": (now + timedelta(seconds=n)).isoformat(),
             "sequence": n, "call_id": call_id, "queue": "kontaktcenter",
             "agent": "PJSIP/anna" if kind == "call.answered" else None, "caller": caller,
             "metrics": {}} for n, kind in enumerate(("call.queued", "call.answered"))]


def test_the_screen_pop_shows_the_caller_within_two_seconds_and_presence_reaches_routing(
        app, committed, pbx_agent, guide_page, live_server, start_celery):
    from citizencenter.integrations import service as integrations

    session, page = committed, guide_page
    karin = Contact(name="Karin Ek", phone=POP_CALLER)
    session.add(karin)
    session.flush()
    open_case = add_case(session, minutes_ago=60, contact_id=karin.id, subject="Trasig lykta")
    closed = add_case(session, minutes_ago=900, contact_id=karin.id, status="closed",
                      subject="Gammal fråga")
    _, token, secret = integrations.create_integration(
        session, "växeln (sidor)", ["calls:write"], app.config["SECRET_KEY"])
    session.commit()
    session.rollback()
    start_celery("worker")

    page.goto("/")
    page.get_by_role("button", name="Filtrera").focus()
    page.wait_for_timeout(500)  # the event stream is open
    started = time.monotonic()
    response = post_events(app.test_client(), (token, secret), _call_events("pop-page", POP_CALLER))
    assert response.status_code == 202, response.get_json()
    pop = page.get_by_role("heading", name=f"Samtal från {POP_CALLER}")
    pop.wait_for(timeout=5_000)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the screen pop took {elapsed:.2f}s"
    region = page.locator("#screen-pop")
    assert region.get_attribute("aria-live") == "polite"
    assert page.evaluate("document.activeElement.textContent") == "Filtrera"  # focus stays
    assert "Karin Ek" in region.inner_text()
    assert region.get_by_role("link", name=re.compile("Trasig lykta")).get_attribute(
        "href") == f"/cases/{open_case}"
    assert region.get_by_role("link", name=re.compile("Gammal fråga")).get_attribute(
        "href") == f"/cases/{closed}"
    call_id = session.scalar(select(Call.id).where(Call.call_id == "pop-page"))
    session.rollback()
    assert region.get_by_role("link", name="Registrera samtalet").get_attribute(
        "href") == f"/register?call={call_id}"
    assert_accessible(page)
    screenshot(page, "screen-pop")

    post_events(app.test_client(), (token, secret), _call_events("pop-withheld", None))
    page.get_by_role("heading", name="Samtal från Dolt nummer").wait_for(timeout=15_000)
    assert "Registrera samtalet" in region.inner_text()
    # A page opened mid-call shows the call Anna is on without a new event: a pop published
    # while a page loaded or the stream reconnected is not lost.
    page.reload()
    page.get_by_role("heading", name="Samtal från Dolt nummer").wait_for(timeout=5_000)

    # The header's "Status" is the routing presence: available, routing gives Anna the
    # waiting case, and her worklist shows it as hers without reload.
    waiting = _waiting(session, "kontaktcenter", 15, subject="Väntar på en vägledare")
    session.commit()
    session.rollback()
    page.get_by_role("banner").get_by_label("Status").select_option(label="Tillgänglig")
    deadline = time.monotonic() + 15
    while session.get(Case, waiting).assignee_id != pbx_agent and time.monotonic() < deadline:
        session.rollback()
        time.sleep(0.2)
    assert session.get(Case, waiting).assignee_id == pbx_agent
    session.rollback()
    row = page.get_by_role("row", name=re.compile("Väntar på en vägledare"))
    row.get_by_text("Tilldelat dig").wait_for(timeout=10_000)
    page.get_by_role("banner").get_by_label("Status").select_option(label="Utloggad")
    page.get_by_text("Status: Utloggad").wait_for()


def test_the_header_count_is_on_every_page(committed, guide_page, live_server):
    session, page = committed, guide_page
    _waiting(session, "epost", 5)
    _waiting(session, "kontaktcenter", 5)
    session.commit()
    session.rollback()
    page.goto("/?cursor=spoilt")  # an error page: the count comes after load
    assert page.get_by_role("heading", level=1).inner_text() == "Något gick fel"
    page.get_by_role("banner").get_by_text("Väntande ärenden: 2").wait_for(timeout=5_000)
