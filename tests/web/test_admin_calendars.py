"""Business calendars (/admin/calendars) in a real browser: hours changed through the page
become a new version through the service behind PUT /api/v1/sla/calendars/<slug>; a case
whose clock starts after the change is due by the new hours, a running clock keeps its
version; the month view shows juldagen closed and a shortened eve; stale forms, bad hours,
the audit row, guides refused, axe and screenshots. The API's If-Match on the same PUT."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case
from citizencenter.organisation.models import Category
from citizencenter.sla.service import start_timers
from tests.factories import bearer
from tests.web.conftest import USERS, assert_accessible, screenshot, sign_in

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
# A Friday afternoon long enough ago for a case's received_at.
FRIDAY_1630 = datetime(2026, 11, 27, 16, 30, tzinfo=STOCKHOLM)


@pytest.fixture
def api(app, committed):
    token = accounts.create_token(committed, "kalendrar",
                                  user_email=USERS["supervisor"][0])[1]
    committed.commit()
    client = app.test_client()

    def call(method: str, path: str, expect: int | None = None, headers=None, **kwargs):
        response = client.open(path, method=method,
                               headers={**bearer(token), **(headers or {})}, **kwargs)
        committed.rollback()  # SQLite: no read left open under the server's writes
        if expect is None:
            assert response.status_code < 300, response.get_json()
        else:
            assert response.status_code == expect, response.get_json()
        return response

    return call


@pytest.fixture
def calendar(api, committed):
    """A Monday–Friday 08–17 calendar and a one-hour first-response policy using it for
    urgent e-mail of one category (specific enough to be the policy such a case gets)."""
    suffix = uuid.uuid4().hex[:8]
    slug, policy = f"kal-{suffix}", f"kal-svar-{suffix}"
    category = committed.scalar(select(Category.slug).order_by(Category.id).limit(1))
    committed.rollback()
    api("POST", "/api/v1/sla/calendars", json={
        "slug": slug, "name": f"Kontaktcenter {suffix}",
        "weekly_hours": {day: ["08:00-17:00"] for day in WEEKDAYS}})
    api("POST", "/api/v1/sla/policies", json={
        "slug": policy, "name": f"Svar inom en timme {suffix}", "metric": "first_response",
        "channel": "email", "priority": "urgent", "category": category, "target_value": 1,
        "target_unit": "hours", "calendar": slug})
    yield {"slug": slug, "name": f"Kontaktcenter {suffix}", "policy": policy,
           "category": category}
    api("PATCH", f"/api/v1/sla/policies/{policy}", json={"active": False})


def _case_due(api, committed, calendar) -> tuple[str, int, str]:
    """A case received Friday 16:30 whose clock starts now: (due, calendar version, id)."""
    case_id = api("POST", "/api/v1/cases", json={
        "channel": "email", "subject": "Kalendertest", "description": "Öppettider.",
        "priority": "urgent", "category": calendar["category"],
        "received_at": FRIDAY_1630.isoformat()}).get_json()["id"]
    start_timers(committed, [committed.get(Case, uuid.UUID(case_id))])
    committed.commit()
    return _timer(api, case_id, calendar)


def _timer(api, case_id: str, calendar) -> tuple[str, int, str]:
    timers = api("GET", f"/api/v1/cases/{case_id}/sla").get_json()["timers"]
    timer, = [t for t in timers if t["policy"] == calendar["policy"]]
    return timer["due_at"], timer["calendar_version"], case_id


def _open_from_list(page, name: str) -> None:
    """Click the link named `name` in a paged list, following "Nästa sida" to it."""
    while page.get_by_role("link", name=name).count() == 0:
        page.get_by_role("link", name="Nästa sida").click()
    page.get_by_role("link", name=name).click()


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def test_changed_hours_move_the_due_time_of_clocks_started_after_the_change(
        supervisor_page, api, committed, calendar):
    page = supervisor_page
    due, version, running_case = _case_due(api, committed, calendar)
    # Friday 16:30 + one open hour: half an hour on Friday, half an hour on Monday.
    assert (_utc(due), version) == (datetime(2026, 11, 30, 7, 30, tzinfo=UTC), 1)

    page.goto("/admin")
    page.get_by_role("link", name="Kalendrar och öppettider").click()
    _open_from_list(page, calendar["name"])
    assert page.get_by_role("heading", level=1).inner_text() == \
        f"Kalender: {calendar['name']}"
    assert page.get_by_label("Fredag").input_value() == "08:00-17:00"
    page.get_by_label("Fredag").fill("08:00-12:00, 13:00-18:00")
    page.get_by_label("Förkortade dagar").fill("trettondagsafton 08:00-12:00")
    page.get_by_role("button", name="Spara öppettiderna").click()
    status = page.get_by_role("main").get_by_role("status").inner_text()
    assert "version 1 ersattes av version 2" in status
    assert "Version 2 används av alla SLA-klockor som startar från nu" in status
    assert f"Svar inom en timme {calendar['slug'][4:]}" in status
    # The running clock of the case above keeps version 1.
    assert "1 klockor som redan går eller är pausade behåller den version de startade " \
           "med (version 1)" in status
    assert_accessible(page)
    screenshot(page, "admin-calendar-saved")

    read = api("GET", f"/api/v1/sla/calendars/{calendar['slug']}")
    body = read.get_json()
    assert body["version"] == 2 and read.headers["ETag"] == '"2"'
    assert body["weekly_hours"]["friday"] == ["08:00-12:00", "13:00-18:00"]
    assert body["shortened_days"] == {"trettondagsafton": ["08:00-12:00"]}
    assert [v["version"] for v in body["versions"]] == [1, 2]

    # Behaviour: a clock started after the change counts in version 2 (open until 18:00
    # on Fridays, so due Friday 17:30); the running one keeps Monday 08:30.
    due, version, _ = _case_due(api, committed, calendar)
    assert (_utc(due), version) == (datetime(2026, 11, 27, 16, 30, tzinfo=UTC), 2)
    due, version, _ = _timer(api, running_case, calendar)
    assert (_utc(due), version) == (datetime(2026, 11, 30, 7, 30, tzinfo=UTC), 1)

    user_id = committed.scalar(select(User.id).where(User.email == USERS["supervisor"][0]))
    entry = committed.scalars(select(AuditEntry).where(
        AuditEntry.action == "sla_calendar.changed",
        AuditEntry.entity_id == calendar["slug"]).order_by(AuditEntry.id.desc())).first()
    committed.rollback()
    assert entry.actor == f"user:{user_id}"


def test_month_view_shows_closed_holidays_and_a_shortened_eve(
        supervisor_page, api, calendar):
    page = supervisor_page
    page.goto(f"/admin/calendars/{calendar['slug']}")
    page.get_by_label("Förkortade dagar").fill("trettondagsafton 08:00-12:00")
    page.get_by_role("button", name="Spara öppettiderna").click()
    page.goto(f"/admin/calendars/{calendar['slug']}?month=2026-12")
    month = page.get_by_role("table", name="Öppettider december 2026")

    def row(name: str) -> list[str]:
        cells = month.get_by_role("row", name=name, exact=False).first
        return [c.strip() for c in cells.locator("th, td").all_inner_texts()]

    assert row("fredag 25 december") == ["fredag 25 december", "Stängt", "Juldagen"]
    assert row("torsdag 24 december") == ["torsdag 24 december", "Stängt", "Julafton"]
    assert row("onsdag 23 december") == ["onsdag 23 december", "08:00-17:00", ""]
    page.get_by_role("link", name="Nästa månad").click()
    month = page.get_by_role("table", name="Öppettider januari 2027")
    assert row("tisdag 5 januari") == ["tisdag 5 januari", "08:00-12:00",
                                       "Trettondagsafton, förkortad dag"]
    assert row("onsdag 6 januari") == ["onsdag 6 januari", "Stängt", "Trettondedag jul"]
    holidays = page.get_by_role("table", name="Svenska helgdagar", exact=False)
    assert holidays.get_by_role("row", name="Juldagen", exact=False).count() >= 1
    assert_accessible(page)
    screenshot(page, "admin-calendar-month")
    page.set_viewport_size({"width": 320, "height": 800})
    screenshot(page, "admin-calendar-narrow")


def test_bad_hours_and_a_stale_form_save_nothing(supervisor_page, new_page, api, calendar):
    page = supervisor_page
    page.goto(f"/admin/calendars/{calendar['slug']}")
    page.get_by_label("Måndag").fill("08:00-12:00, 11:00-17:00")
    page.get_by_role("button", name="Spara öppettiderna").click()
    assert "sparades inte" in page.get_by_role("main").get_by_role("alert").inner_text()
    monday = page.get_by_label("Måndag")
    assert monday.input_value() == "08:00-12:00, 11:00-17:00"
    assert monday.get_attribute("aria-invalid") == "true"
    assert "utan överlapp" in page.locator(
        "#" + monday.get_attribute("aria-describedby").split()[-1]).inner_text()
    assert_accessible(page)
    screenshot(page, "admin-calendar-invalid")
    assert api("GET", f"/api/v1/sla/calendars/{calendar['slug']}").get_json()["version"] == 1

    other = new_page()
    sign_in(other, "supervisor")
    page.goto(f"/admin/calendars/{calendar['slug']}")
    other.goto(f"/admin/calendars/{calendar['slug']}")
    other.get_by_label("Lördag").fill("10:00-14:00")
    other.get_by_role("button", name="Spara öppettiderna").click()
    assert "ersattes av version 2" in other.get_by_role("main").get_by_role("status").inner_text()
    page.get_by_label("Söndag").fill("10:00-14:00")
    page.get_by_role("button", name="Spara öppettiderna").click()
    alert = page.get_by_role("main").get_by_role("alert")
    assert "har ändrats av någon annan" in alert.inner_text()
    assert page.get_by_label("Söndag").input_value() == "10:00-14:00"
    screenshot(page, "admin-calendar-stale")
    body = api("GET", f"/api/v1/sla/calendars/{calendar['slug']}").get_json()
    assert body["version"] == 2 and "sunday" not in body["weekly_hours"]


def test_guides_may_not_open_calendars(guide_page, calendar):
    assert guide_page.goto("/admin/calendars").status == 403
    assert guide_page.goto(f"/admin/calendars/{calendar['slug']}").status == 403


def test_put_with_if_match_refuses_a_stale_version(api, calendar):
    path = f"/api/v1/sla/calendars/{calendar['slug']}"
    body = {"name": calendar["name"],
            "weekly_hours": {day: ["08:00-16:00"] for day in WEEKDAYS}}
    assert api("GET", path).headers["ETag"] == '"1"'
    changed = api("PUT", path, json=body, headers={"If-Match": '"1"'})
    assert changed.headers["ETag"] == '"2"'
    stale = api("PUT", path, expect=412, headers={"If-Match": '"1"'},
                json={**body, "weekly_hours": {"monday": ["09:00-10:00"]}})
    assert stale.content_type == "application/problem+json"
    assert api("GET", path).get_json()["weekly_hours"]["monday"] == ["08:00-16:00"]
    # Without If-Match the PUT still replaces, as before; the same hours add no version.
    assert api("PUT", path, json=body).get_json()["version"] == 2


def test_a_calendar_created_through_the_page(supervisor_page, new_page, api, committed):
    """"Ny kalender": the service of POST /api/v1/sla/calendars, version 1, audited; bad
    hours and a taken slug are refused next to their field with what was typed kept."""
    page = supervisor_page
    suffix = uuid.uuid4().hex[:8]
    slug, name = f"ny-kal-{suffix}", f"Sommartider {suffix}"
    page.goto("/admin/calendars")
    page.get_by_role("link", name="Ny kalender").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ny kalender"
    page.get_by_label("Namn", exact=True).fill(name)
    page.get_by_label("Kortnamn").fill(slug)
    page.get_by_label("Kanal").select_option(label="E-post")
    page.get_by_label("fredag").fill("08:00-12:00")
    page.get_by_label("lördag").fill("25:00-26:00")
    page.get_by_role("button", name="Skapa kalendern").click()
    assert "skapades inte" in page.get_by_role("main").get_by_role("alert").inner_text()
    saturday = page.get_by_label("lördag")
    assert saturday.get_attribute("aria-invalid") == "true"
    assert saturday.input_value() == "25:00-26:00"
    assert page.get_by_label("Namn", exact=True).input_value() == name
    assert_accessible(page)
    screenshot(page, "admin-calendar-new-invalid")
    api("GET", f"/api/v1/sla/calendars/{slug}", expect=404)

    page.get_by_label("lördag").fill("10:00-14:00")
    page.get_by_role("button", name="Skapa kalendern").click()
    status = page.get_by_role("main").get_by_role("status")
    assert "Kalendern är skapad" in status.inner_text()
    assert page.get_by_role("heading", level=1).inner_text().endswith(name)
    assert_accessible(page)
    screenshot(page, "admin-calendar-created")

    body = api("GET", f"/api/v1/sla/calendars/{slug}").get_json()
    assert (body["name"], body["channel"], body["version"]) == (name, "email", 1)
    assert body["weekly_hours"] == {
        **{day: ["08:00-17:00"] for day in WEEKDAYS[:4]}, "friday": ["08:00-12:00"],
        "saturday": ["10:00-14:00"]}
    user_id = committed.scalar(select(User.id).where(User.email == USERS["supervisor"][0]))
    actor = committed.scalar(select(AuditEntry.actor).where(
        AuditEntry.action == "sla_calendar.created", AuditEntry.entity_id == slug))
    committed.rollback()
    assert actor == f"user:{user_id}"

    # The same slug again: refused next to the field, nothing changed.
    page.goto("/admin/calendars/new")
    page.get_by_label("Namn", exact=True).fill("Dubblett")
    page.get_by_label("Kortnamn").fill(slug)
    page.get_by_role("button", name="Skapa kalendern").click()
    field = page.get_by_label("Kortnamn")
    assert field.get_attribute("aria-invalid") == "true"
    assert "används redan" in page.locator("#slug-error").inner_text()
    assert api("GET", f"/api/v1/sla/calendars/{slug}").get_json()["name"] == name

    assert sign_in(new_page(), "guide").goto("/admin/calendars/new").status == 403
