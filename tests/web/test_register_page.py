"""Register a contact fast (/register) in a real browser: a call settled at once, a visit,
validation errors tied to their fields, the call from the screen pop, and who may use it."""

import re
import time
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts.models import User
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.config import local_zone
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.organisation.models import ServicePoint
from citizencenter.routing import presence
from tests.web.conftest import USERS, assert_accessible, screenshot

SAVED = re.compile(r"Registrerat som (MC-\d{4}-\d{6})")


@pytest.fixture(autouse=True)
def _guide_at_kristallen(app, engine):
    """The demo guide works at Kristallen, as the demo data says (routing tests that ran
    before may have emptied the guides' profiles)."""
    db.session.remove()
    db.session.configure(bind=engine)
    with app.app_context():
        guide = db.session.scalar(select(User).where(User.email == USERS["guide"][0]))
        presence.ensure_profile(db.session, guide.id).service_point_id = db.session.scalar(
            select(ServicePoint.id).where(ServicePoint.slug == "kristallen"))
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module", autouse=True)
def _server_answers(live_server):
    """The server's worker has loaded the app before the first timed test (a busy machine
    may take longer than a page load's timeout to import it)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(live_server("/login"), timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _status(page):
    """The page's confirmation region (the header may have live regions of its own)."""
    return page.get_by_role("main").get_by_role("status")


def _case(reference: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None, reference
    db.session.expunge(case)
    return case


def _saved_reference(page) -> str:
    status = _status(page)
    expect(status).to_contain_text("Registrerat som")
    return SAVED.search(status.inner_text()).group(1)


def _register(page) -> tuple[str, float]:
    """Press "Registrera" and wait for the confirmation; the reference and the seconds the
    browser waited for the saved answer (request sent to last byte, as the browser timed it)."""
    previous = _status(page).inner_text()
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/register")) as answer:
        page.get_by_role("button", name="Registrera").click()
    timing = answer.value.request.timing
    status = _status(page)
    expect(status).to_contain_text("Registrerat som")
    expect(status).not_to_have_text(previous)
    return _saved_reference(page), (timing["responseEnd"] - timing["requestStart"]) / 1000


def _expect_ready(page) -> None:
    """The form is empty again and the first field has focus, ready for the next contact."""
    for label in ("Ämne", "Kort beskrivning", "Namn", "Telefonnummer", "E-post"):
        expect(page.get_by_label(label, exact=True)).to_have_value("")
    expect(page.get_by_label("Kategori")).to_have_value("")
    expect(page.get_by_label("Löst vid första kontakten")).not_to_be_checked()
    expect(page.get_by_role("main").get_by_role("alert")).to_have_count(0)


def test_a_call_settled_at_first_contact_is_saved_in_under_a_second(guide_page, committed):
    page = guide_page
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Registrera kontakt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrera kontakt")
    expect(page.get_by_label("Telefon", exact=True)).to_be_checked()
    expect(page.get_by_label("Servicepunkt")).to_be_hidden()  # a call has none
    assert_accessible(page)
    screenshot(page, "register-page")

    page.get_by_label("Kategori").select_option(label="Avfall och återvinning")
    page.get_by_label("Ämne").fill("Hämtning av grovsopor")
    page.get_by_label("Kort beskrivning").fill("Fick tider för grovsopor i Dalby.")
    page.get_by_label("Löst vid första kontakten").check()
    page.get_by_label("Namn").fill("Karin Ek")
    page.get_by_label("Telefonnummer").fill("070-123 45 67")
    reference, elapsed = _register(page)
    assert elapsed < 1.0, f"saved in {elapsed:.2f} s"
    expect(_status(page)).to_contain_text("Avslutat som löst vid första kontakten")
    _expect_ready(page)
    expect(page.get_by_label("Telefon", exact=True)).to_be_focused()
    assert_accessible(page)
    screenshot(page, "register-saved")

    case = _case(reference)
    assert case.channel == Channel.PHONE and case.status == CaseStatus.CLOSED
    assert case.resolved_at_first_contact and case.resolved_at is not None
    anna = db.session.scalar(select(User).where(User.email == USERS["guide"][0]))
    assert case.assignee_id == anna.id and case.category.slug == "avfall"
    contact = db.session.get(Contact, case.contact_id)
    assert (contact.name, contact.phone) == ("Karin Ek", "+46701234567")
    db.session.rollback()

    # Ready for the next one at once: a second call, left open with the guide.
    page.keyboard.press("Tab")  # from the channel to the form's next field, no mouse
    page.get_by_label("Ämne").fill("Fråga om bygglov för garage")
    reference_2, elapsed = _register(page)
    assert reference_2 != reference and elapsed < 1.0
    expect(_status(page)).to_contain_text("Ärendet ligger kvar hos dig")
    second = _case(reference_2)
    assert second.status == CaseStatus.OPEN and not second.resolved_at_first_contact
    assert second.assignee_id == anna.id and second.contact_id is None
    db.session.rollback()


def test_a_walk_in_visit_at_the_guides_service_point(guide_page, committed):
    page = guide_page
    page.goto("/register")
    page.get_by_label("Besök").check()
    point = page.get_by_label("Servicepunkt")
    expect(point).to_be_visible()
    expect(point.locator("option:checked")).to_have_text("Medborgarcenter Kristallen")
    page.get_by_label("Ämne").fill("Hjälp med e-tjänst för bygglov")
    page.get_by_label("Löst vid första kontakten").check()
    page.get_by_label("E-post").fill("Besokare@Example.se")
    screenshot(page, "register-walk-in")
    reference, elapsed = _register(page)
    assert elapsed < 1.0
    # The next visit at the same counter starts as a visit there again.
    expect(page.get_by_label("Besök")).to_be_checked()
    expect(point).to_be_visible()
    case = _case(reference)
    assert case.channel == Channel.WALK_IN and case.status == CaseStatus.CLOSED
    assert case.resolved_at_first_contact
    assert db.session.get(Contact, case.contact_id).email == "besokare@example.se"
    assert case.service_point_id is not None
    db.session.rollback()


def test_errors_are_tied_to_their_fields_and_typed_input_stays(guide_page, committed):
    page = guide_page
    page.goto("/register")
    before = db.session.scalar(select(Case.id).order_by(Case.received_at.desc()).limit(1))
    db.session.rollback()
    page.get_by_label("Kort beskrivning").fill("Ringde om parkering.")
    page.get_by_label("Löst vid första kontakten").check()
    page.get_by_label("Namn").fill("Sven Ek")
    page.get_by_label("Telefonnummer").fill("12")
    page.get_by_label("E-post").fill("inte-en-adress")
    page.get_by_role("button", name="Registrera").click()

    summary = page.get_by_role("main").get_by_role("alert")
    expect(summary).to_contain_text("Kontakten registrerades inte")
    for label, message in (("Ämne", "Skriv vad kontakten gällde"),
                           ("Telefonnummer", "Skriv ett giltigt telefonnummer"),
                           ("E-post", "Skriv en giltig e-postadress")):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        described = field.get_attribute("aria-describedby").split()
        texts = [page.locator(f"#{ident}").inner_text() for ident in described]
        assert any(message in text for text in texts), (label, texts)
        expect(summary.get_by_role("link", name=re.compile(message))).to_be_visible()
    expect(page.get_by_label("Ämne")).to_be_focused()  # the first field to correct
    expect(page.get_by_label("Kort beskrivning")).to_have_value("Ringde om parkering.")
    expect(page.get_by_label("Namn")).to_have_value("Sven Ek")
    expect(page.get_by_label("Telefonnummer")).to_have_value("12")
    expect(page.get_by_label("Löst vid första kontakten")).to_be_checked()
    expect(page.get_by_label("Namn")).not_to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "register-errors")
    assert db.session.scalar(select(Case.id).order_by(Case.received_at.desc()).limit(1)) \
        == before
    db.session.rollback()

    # Corrected, it saves; the error summary is gone.
    page.get_by_label("Ämne").fill("Parkeringstillstånd")
    page.get_by_label("Telefonnummer").fill("046-35 50 00")
    page.get_by_label("E-post").fill("")
    reference, _ = _register(page)
    _expect_ready(page)
    assert db.session.get(Contact, _case(reference).contact_id).phone == "+4646355000"
    db.session.rollback()


def test_without_script_the_form_posts_and_answers_as_a_page(browser, live_server, committed):
    context = browser.new_context(base_url=live_server.url, locale="sv-SE",
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        from tests.web.conftest import sign_in
        sign_in(page, "guide")
        page.goto("/register")
        expect(page.get_by_label("Servicepunkt")).to_be_visible()
        page.get_by_label("Besök").check()
        page.get_by_role("button", name="Registrera").click()
        expect(page.get_by_role("main").get_by_role("alert")) \
            .to_contain_text("Skriv vad kontakten gällde")
        page.get_by_label("Ämne").fill("Lämnade en blankett")
        page.get_by_role("button", name="Registrera").click()
        reference = _saved_reference(page)
        assert _case(reference).channel == Channel.WALK_IN
        db.session.rollback()
    finally:
        context.close()


@pytest.fixture
def answered_call(committed):
    """An answered call the demo guide's agent took from a known contact, committed."""
    anna = committed.scalar(select(User).where(User.email == USERS["guide"][0]))
    committed.add(Contact(name="Lena Holm", email="lena.holm@example.se", phone="+46709876543"))
    entered = utcnow() - timedelta(minutes=3)
    call = Call(source="asterisk", call_id=f"reg.{time.monotonic_ns()}", queue="kontaktcenter",
                caller="+46709876543", agent="SIP/8007", agent_user_id=anna.id,
                outcome=CallOutcome.ANSWERED, entered_at=entered,
                answered_at=entered + timedelta(seconds=20), wait_s=20,
                last_event_at=entered + timedelta(seconds=20),
                local_date=entered.astimezone(local_zone()).date(),
                local_hour=entered.astimezone(local_zone()).hour)
    committed.add(call)
    committed.commit()
    call_id = call.id
    committed.rollback()
    return call_id


def test_the_screen_pops_call_prefills_the_caller_and_is_linked(guide_page, answered_call,
                                                                 department_page_other):
    page = guide_page
    page.goto(f"/register?call={answered_call}")
    expect(page.get_by_text("Samtal från +46709876543")).to_be_visible()
    expect(page.get_by_label("Telefon", exact=True)).to_be_checked()
    expect(page.get_by_label("Telefonnummer")).to_have_value("+46709876543")
    expect(page.get_by_label("Namn")).to_have_value("Lena Holm")
    expect(page.get_by_label("E-post")).to_have_value("lena.holm@example.se")
    page.set_viewport_size({"width": 320, "height": 900})
    assert_accessible(page)
    screenshot(page, "register-call-320px")
    page.get_by_label("Ämne").fill("Öppettider i simhallen")
    page.get_by_label("Löst vid första kontakten").check()
    reference, elapsed = _register(page)
    assert elapsed < 1.0
    case = _case(reference)
    call = db.session.get(Call, answered_call, populate_existing=True)
    assert call.case_id == case.id and case.status == CaseStatus.CLOSED
    assert case.resolved_at_first_contact and case.received_at == call.entered_at
    assert db.session.get(Contact, case.contact_id).name == "Lena Holm"
    db.session.rollback()
    # The form for the next contact no longer links the call.
    expect(page.get_by_text("Samtal från")).to_have_count(0)

    # Another guide's call is not theirs to register: 404, nothing shown of the caller.
    other = department_page_other
    response = other.goto(f"/register?call={answered_call}")
    assert response.status == 404
    expect(other.get_by_text("+46709876543")).to_have_count(0)


@pytest.fixture
def department_page_other(new_page):
    """The supervisor, who did not answer the call."""
    from tests.web.conftest import sign_in
    return sign_in(new_page(), "supervisor")


def test_department_staff_cannot_register(department_page):
    assert department_page.goto("/register").status == 403


def test_a_post_without_the_csrf_token_is_refused(guide_page, live_server, committed):
    response = guide_page.request.post(live_server("/register"), form={
        "channel": "phone", "subject": "Utan token"})
    assert response.status == 403
    assert committed.scalar(select(Case.id).where(Case.subject == "Utan token")) is None
