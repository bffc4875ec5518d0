"""/admin/users in a real browser (administrators): a user created on the page chooses a
password through the one-time link a real worker mails to the SMTP sink and signs in; a
disabled user's session ends; an API token issued on the page is shown once, works, and
stops working when revoked; every change audited; guides and supervisors get 403."""

import email
import email.policy
import re
import time
import uuid

import pytest
import redis
from playwright.sync_api import expect
from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.routing.models import GuideProfile, Presence
from tests.conftest import running_smtp
from tests.factories import bearer
from tests.web.conftest import USERS, assert_accessible, screenshot, sign_in

NEW_PASSWORD = "ett-eget-långt-lösenord"


@pytest.fixture
def smtp_inbox():
    with running_smtp(lambda envelope: email.message_from_bytes(
            envelope.content, policy=email.policy.default)) as inbox:
        yield inbox


@pytest.fixture
def worker_env(worker_env, smtp_inbox, live_server) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_inbox.port),
            "SMTP_TIMEOUT_S": "5", "PUBLIC_BASE_URL": live_server.url}


def _wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        finally:
            db.session.rollback()  # an open SQLite read holds the write lock
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def _actions(session, entity_type: str, entity_id) -> list[tuple[str, str]]:
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)).all()
    session.rollback()
    return [(row.actor, row.action) for row in rows]


def _admin_actor(session) -> str:
    actor = f"user:{session.scalar(select(User.id).where(User.email == USERS['admin'][0]))}"
    session.rollback()
    return actor


@pytest.mark.worker
def test_a_new_user_chooses_a_password_by_the_mailed_link_and_is_signed_out_when_disabled(
        admin_page, new_page, committed, start_celery, smtp_inbox):
    page = admin_page
    suffix = uuid.uuid4().hex[:8]
    name, address = f"Ny Guide {suffix}", f"ny.guide.{suffix}@lund.example"
    page.goto("/admin/users")
    assert page.get_by_role("heading", level=1).inner_text() == "Användare och API-nycklar"
    page.get_by_label("Namn", exact=True).fill(name)
    page.get_by_label("E-post").fill(address)
    page.get_by_label("Roll", exact=True).select_option(label="Guide")
    page.get_by_role("button", name="Skapa användare").click()
    page.get_by_role("status").filter(has_text="Användaren är skapad").wait_for()
    user_id = committed.scalar(select(User.id).where(User.email == address))
    committed.rollback()

    start_celery("worker")
    start_celery("beat")  # relays the outbox, as in production
    page.get_by_role("button", name=f"Skicka lösenordslänk till {name}").click()
    page.get_by_role("status").filter(has_text="lösenordslänk är skickad").wait_for()
    assert_accessible(page)
    screenshot(page, "admin-users")
    mail = _wait_until(lambda: next((m for m in smtp_inbox.messages
                                     if m["To"] == address), None), 60, "the reset mail")
    link = re.search(r"(http://\S+/reset-password/\S+)", mail.get_content()).group(1)

    user = new_page()
    user.goto(link)
    assert_accessible(user)
    user.get_by_label("Nytt lösenord", exact=True).fill(NEW_PASSWORD)
    user.get_by_label("Nytt lösenord igen").fill(NEW_PASSWORD)
    screenshot(user, "reset-password")
    user.get_by_role("button", name="Spara lösenordet").click()
    user.get_by_role("heading", name="Lösenordet är sparat").wait_for()
    assert user.goto(link).status == 410  # once only
    user.get_by_role("heading", name="Länken fungerar inte").wait_for()

    user.goto("/login")
    user.get_by_label("E-post").fill(address)
    user.get_by_label("Lösenord").fill(NEW_PASSWORD)
    user.get_by_role("button", name="Logga in").click()
    user.get_by_role("button", name="Logga ut").wait_for()

    page.goto("/admin/users")
    page.get_by_role("button", name=f"Stäng av {name}").click()
    page.get_by_role("status").filter(has_text="Kontot är avstängt").wait_for()
    user.goto("/")
    user.get_by_role("button", name="Logga in").wait_for()  # the session ended

    admin = _admin_actor(committed)
    assert _actions(committed, "user", user_id) == [
        (admin, "user.created"), (admin, "user.password_reset_sent"),
        (f"user:{user_id}", "user.password_set"), (admin, "user.changed")]


def test_a_token_issued_on_the_page_is_shown_once_works_and_stops_when_revoked(
        admin_page, committed, redis_server):
    page = admin_page
    name = f"Växelns nyckel {uuid.uuid4().hex[:6]}"
    page.goto("/admin/users")
    page.get_by_label("Nyckelns namn").fill(name)
    page.get_by_label("cases:read").check()
    page.get_by_role("button", name="Skapa API-nyckel").click()
    secret = page.get_by_label("Nyckel", exact=True).input_value()
    assert secret.startswith("cc_")
    assert_accessible(page)
    screenshot(page, "admin-token-created")
    assert page.request.get("/api/v1/cases", headers=bearer(secret)).status == 200

    page.goto("/admin/users")
    assert secret not in page.content()  # shown once, never again
    row = page.get_by_role("row").filter(has_text=name)
    assert secret[:10] in row.inner_text() and "cases:read" in row.inner_text()
    assert "Inte använd" in row.inner_text()  # until the beat task records the use
    from citizencenter.accounts import token_uses
    with redis.Redis.from_url(redis_server.url, decode_responses=True) as notes:
        token_uses.record(committed, notes)
    page.reload()
    assert "Inte använd" not in row.inner_text()
    assert page.get_by_role("columnheader", name="Senast använd").count() == 1
    page.get_by_role("button", name=f"Återkalla API-nyckeln {name}").click()
    page.get_by_role("status").filter(has_text="API-nyckeln är återkallad").wait_for()
    assert page.request.get("/api/v1/cases", headers=bearer(secret)).status == 401

    from citizencenter.accounts.models import ApiToken
    token_id = committed.scalar(select(ApiToken.id).where(ApiToken.name == name))
    admin = _admin_actor(committed)
    assert _actions(committed, "token", token_id) == [(admin, "token.created"),
                                                      (admin, "token.revoked")]


def test_a_taken_address_is_refused_on_its_field_with_what_was_typed_kept(admin_page):
    page = admin_page
    page.goto("/admin/users")
    page.get_by_label("Namn", exact=True).fill("Någon Annan")
    page.get_by_label("E-post").fill(USERS["guide"][0])
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Skapa användare").click()
    assert answer.value.status == 422
    field = page.get_by_label("E-post")
    assert field.input_value() == USERS["guide"][0]
    assert field.get_attribute("aria-invalid") == "true"
    assert "finns redan" in page.locator("#user-email-error").inner_text()
    assert page.get_by_label("Namn", exact=True).input_value() == "Någon Annan"
    assert_accessible(page)


def test_a_role_change_on_the_page_is_checked_audited_and_signs_the_user_off(
        admin_page, committed):
    page = admin_page
    suffix = uuid.uuid4().hex[:8]
    name = f"Byter Roll {suffix}"
    user_id = accounts.create_user(committed, f"byter.{suffix}@lund.example", name, "guide").id
    committed.commit()
    token = accounts.create_token(committed, f"test admin {suffix}", role="admin")[1]
    available = page.request.put(f"/api/v1/routing/guides/{user_id}/presence",
                                 data={"presence": "available"}, headers=bearer(token))
    assert available.status == 200, available.text()

    page.goto("/admin/users")
    page.get_by_role("link", name=f"Ändra {name}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Ändra {name}"
    assert page.get_by_label("Roll").input_value() == "guide"
    page.get_by_label("Roll").select_option(label="Förvaltningshandläggare")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Spara").click()
    assert answer.value.status == 422
    department = page.get_by_label("Förvaltning")
    assert department.get_attribute("aria-invalid") == "true"
    assert "måste höra till en förvaltning" in page.locator("#user-department-error").inner_text()
    assert page.get_by_label("Roll").input_value() == "department"  # what was chosen stays
    assert_accessible(page)
    screenshot(page, "admin-user-edit")

    department.select_option("stadsbyggnad")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("status").filter(has_text="Användaren är ändrad").wait_for()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    assert "Förvaltningshandläggare" in row.inner_text()
    profile = committed.get(GuideProfile, user_id)
    assert profile.presence == Presence.OFFLINE  # department staff are routed nothing
    committed.rollback()
    admin = _admin_actor(committed)
    assert (admin, "user.changed") in _actions(committed, "user", user_id)
    assert _actions(committed, "user", user_id)[-1] == (admin, "guide.presence_changed")
    assert page.goto("/admin/users/999999999").status == 404


@pytest.mark.parametrize("role", ["guide", "supervisor"])
def test_guides_and_supervisors_are_refused(page, role):
    sign_in(page, role)
    assert page.goto("/admin/users").status == 403
    assert page.goto("/admin/users/1").status == 403
    response = page.request.post("/admin/tokens", form={"token_name": "x",
                                                        "scopes": "cases:read"})
    assert response.status in (400, 403)  # no CSRF token, and no right either
    if role == "supervisor":  # guides are routing's; supervisors reach that page
        page.goto("/admin")
        assert page.get_by_role("link", name="Användare och API-nycklar").count() == 0


def test_an_admin_finds_users_by_name_department_and_state_a_page_at_a_time(
        admin_page, committed):
    """Thousands of department staff: the list is searched and paged, never all shown."""
    for n in range(30):
        user = accounts.create_user(committed, f"sok{n:02d}@lund.example",
                                    f"Örjan Åström {n:02d}", "department",
                                    "tekniska" if n % 2 else "stadsbyggnad")
        user.active = n != 7
    committed.commit()
    page = admin_page
    page.goto("/admin/users")
    page.get_by_label("Hitta användare").fill("örjan åst")
    page.get_by_label("Visa förvaltning").select_option(label="Tekniska förvaltningen")
    page.get_by_role("button", name="Visa användare").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("rowheader")).to_have_count(15)
    names = table.get_by_role("rowheader").all_inner_texts()
    assert names == [f"Örjan Åström {n:02d}" for n in range(1, 30, 2)]
    assert page.get_by_label("Hitta användare").input_value() == "örjan åst"
    assert_accessible(page)
    screenshot(page, "admin-users-search")

    page.get_by_label("Visa förvaltning").select_option(label="Alla förvaltningar")
    page.get_by_label("Visa konton").select_option(label="Avstängda")
    page.get_by_role("button", name="Visa användare").click()
    expect(table.get_by_role("rowheader")).to_have_text(["Örjan Åström 07"])

    page.get_by_label("Visa konton").select_option(label="Alla konton")
    page.get_by_role("button", name="Visa användare").click()
    seen = table.get_by_role("rowheader").all_inner_texts()
    assert len(seen) < 30  # a page, not everyone
    page.get_by_role("link", name="Nästa sida").click()
    seen += page.get_by_role("table").get_by_role("rowheader").all_inner_texts()
    assert seen == [f"Örjan Åström {n:02d}" for n in range(30)]
    page.get_by_role("link", name="Föregående").click()
    assert page.get_by_role("table").get_by_role("rowheader").all_inner_texts() == seen[:25]

    page.get_by_label("Hitta användare").fill("finns inte")
    page.get_by_role("button", name="Visa användare").click()
    expect(page.get_by_role("status")).to_contain_text("Ingen användare matchar sökningen.")
