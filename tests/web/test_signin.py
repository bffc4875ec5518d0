"""Signing in to the pages: the form, the session cookie, sign-out, CSRF, and the layout."""

from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts.models import User
from citizencenter.routing.models import GuideProfile, Presence
from tests.factories import bearer
from tests.web.conftest import PASSWORD, USERS, assert_accessible, screenshot, sign_in


def _profile_presence(email: str) -> Presence:
    user_id = db.session.scalar(select(User.id).where(User.email == email))
    presence = db.session.scalar(select(GuideProfile.presence)
                                 .where(GuideProfile.user_id == user_id))
    db.session.rollback()  # end the read: on SQLite it holds the write lock the server needs
    return presence


def test_sign_in_shows_the_workspace_and_sign_out_ends_the_session(page, live_server):
    page.goto("/")
    assert page.url.endswith("/login?next=/")  # sent to sign in, and back afterwards
    assert page.locator("html").get_attribute("lang") == "sv"
    assert_accessible(page)
    screenshot(page, "login")

    page.get_by_label("E-post").fill(USERS["guide"][0].upper())  # e-mail case does not matter
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()

    assert page.url == live_server("/")
    assert page.get_by_role("heading", level=1, name="Mina ärenden").is_visible()
    banner = page.get_by_role("banner")
    assert "Anna Lindqvist" in banner.inner_text()
    assert banner.get_by_label("Status").is_visible()
    assert banner.get_by_role("search").get_by_label("Sök").is_visible()
    assert page.get_by_role("navigation").get_by_role("link", name="Mina ärenden").is_visible()
    assert page.get_by_role("main").is_visible()
    assert_accessible(page)
    screenshot(page, "home-empty")

    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Logga ut").click()
    assert page.get_by_role("status").inner_text() == "Du är utloggad."
    page.goto("/")
    assert "/login" in page.url

    # The signed-in cookie, replayed after sign-out, is worth nothing: the session is gone.
    page.context.add_cookies([cookie])
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_and_unknown_user_get_the_same_message(page):
    messages = []
    for email, password in [(USERS["guide"][0], "fel-lösenord-123"),
                            ("ingen.alls@lund.example", PASSWORD)]:
        page.goto("/login")
        page.get_by_label("E-post").fill(email)
        page.get_by_label("Lösenord").fill(password)
        page.get_by_role("button", name="Logga in").click()
        alert = page.get_by_role("alert")
        messages.append(alert.inner_text())
        assert page.get_by_label("Lösenord").get_attribute("aria-invalid") == "true"
        assert "/login" in page.url
    assert messages == ["Fel e-post eller lösenord."] * 2
    assert_accessible(page)


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(guide_page, live_server,
                                                                         committed):
    before = _profile_presence(USERS["guide"][0])
    wanted = Presence.AWAY if before != Presence.AWAY else Presence.BUSY

    refused = guide_page.request.post(live_server("/presence"), form={"presence": wanted.value},
                                      max_redirects=0)
    assert refused.status == 403
    assert "Formuläret hade gått ut" in refused.text()
    assert _profile_presence(USERS["guide"][0]) == before

    login = guide_page.request.post(live_server("/login"), max_redirects=0, form={
        "email": USERS["guide"][0], "password": PASSWORD})
    assert login.status == 403


def test_the_status_control_sets_the_routing_presence(guide_page, committed):
    status = guide_page.get_by_role("banner").get_by_label("Status")
    for label, presence in [("Upptagen", Presence.BUSY), ("Utloggad", Presence.OFFLINE)]:
        status.select_option(label=label)  # htmx posts it with the CSRF header
        guide_page.get_by_role("status").filter(has_text=label).wait_for(state="attached")
        # htmx binds the swapped-in form when it settles, a moment after the swap: a change
        # made before that would go unheard. htmx-added marks a form not yet bound.
        guide_page.locator("#presence-form:not(.htmx-added)").wait_for()
        assert _profile_presence(USERS["guide"][0]) == presence
        status = guide_page.get_by_role("banner").get_by_label("Status")
        assert status.input_value() == presence.value


def test_department_staff_sign_in_without_a_presence_control(department_page):
    assert "Johan Berg" in department_page.get_by_role("banner").inner_text()
    assert department_page.get_by_role("banner").get_by_label("Status").count() == 0


def test_the_session_cookie_is_secure_outside_the_embedded_run(app, database_url):
    assert app.config["SESSION_COOKIE_SECURE"] is (not database_url.startswith("sqlite"))
    assert app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(page, live_server):
    page.goto("/search?q=bygglov")
    sign_in_url = page.url
    page.get_by_label("E-post").fill(USERS["supervisor"][0])
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    assert page.url == live_server("/search?q=bygglov"), sign_in_url

    page.get_by_role("button", name="Logga ut").click()
    sign_in(page, "supervisor")
    page.goto("/login?next=//evil.example/")
    page.get_by_label("E-post").fill(USERS["supervisor"][0])
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    assert page.url == live_server("/")


def test_the_bearer_token_api_is_not_csrf_checked(client, tokens):
    response = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json={
        "channel": "email", "subject": "Fråga om bygglov", "description": "Altan 20 m².",
        "category": "bygglov"})
    assert response.status_code == 201, response.get_json()
