"""Queues (/admin/queues) in a real browser: a queue's timeout and overflow set through the
page reach PUT /api/v1/routing/queues/<slug>'s service (the API lists them, the audit trail
has them); an overflow that would loop is refused with the chain explained next to the
field; the channels' default queues are shown as the router reads them."""

import pytest
from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import Channel
from citizencenter.organisation.models import ChannelDefaultQueue, Queue
from citizencenter.web.texts import t
from tests.factories import bearer
from tests.web.conftest import assert_accessible, screenshot, sign_in

QUEUES = "/api/v1/routing/queues"
DEFAULTS = "/api/v1/routing/channel-defaults"


@pytest.fixture
def api(app, committed):
    token = accounts.create_token(committed, "köer", user_email="maria.svensson@lund.example")[1]
    committed.commit()
    client = app.test_client()

    def call(method: str, path: str, **kwargs):
        response = client.open(path, method=method, headers=bearer(token), **kwargs)
        committed.rollback()
        assert response.status_code < 300, response.get_json()
        return response.get_json()

    return call


@pytest.fixture
def two_queues(api, committed):
    """Two of the centre's queues, their policies cleared before and after."""
    rows = committed.execute(select(Queue.slug, Queue.name).where(Queue.department_id.is_(None))
                             .order_by(Queue.id).limit(2)).all()
    committed.rollback()
    for slug, _ in rows:
        api("PUT", f"{QUEUES}/{slug}", json={"timeout_s": None, "overflow_queue": None})
    yield rows
    for slug, _ in rows:
        api("PUT", f"{QUEUES}/{slug}", json={"timeout_s": None, "overflow_queue": None})


def _policy(api, slug: str) -> dict:
    return next(p for p in api("GET", QUEUES)["items"] if p["queue"] == slug)


def test_queue_timeout_and_overflow_set_and_a_cycle_refused_with_its_chain(
        api, committed, two_queues, supervisor_page, new_page, live_server):
    (first, first_name), (second, second_name) = two_queues
    page = supervisor_page
    page.goto("/admin")
    page.get_by_role("link", name="Köer").click()
    page.get_by_role("heading", level=1, name="Köer").wait_for()
    assert_accessible(page)

    # The first queue overflows to the second after 5 minutes.
    region = page.get_by_role("region", name=first_name, exact=True)
    region.get_by_label("Väntetid i minuter").fill("5")
    region.get_by_label("Flytta sedan till kö").select_option(value=second)
    region.get_by_role("button", name=f"Spara: {first_name}").click()
    page.get_by_role("status").filter(has_text=f"Inställningen för {first_name} är sparad.") \
        .wait_for()
    assert _policy(api, first) == {"queue": first, "timeout_s": 300, "overflow_queue": second,
                                   "raise_priority": False}
    maria = committed.scalar(select(User.id).where(User.email == "maria.svensson@lund.example"))
    actor = committed.scalars(select(AuditEntry.actor).where(
        AuditEntry.action == "queue_policy.changed", AuditEntry.entity_id == first)
        .order_by(AuditEntry.id.desc())).first()
    committed.rollback()  # SQLite: no read left open under the browser's writes
    assert actor == f"user:{maria}"

    # The second back to the first would loop: refused, the chain named next to the field.
    region = page.get_by_role("region", name=second_name, exact=True)
    region.get_by_label("Väntetid i minuter").fill("10")
    region.get_by_label("Flytta sedan till kö").select_option(value=first)
    region.get_by_label("Höj prioriteten när väntetiden gått ut").check()
    region.get_by_role("button", name=f"Spara: {second_name}").click()
    page.get_by_role("alert").wait_for()
    region = page.get_by_role("region", name=second_name, exact=True)
    overflow = region.get_by_label("Flytta sedan till kö")
    assert overflow.get_attribute("aria-invalid") == "true"
    message = page.locator("#" + overflow.get_attribute("aria-describedby")).inner_text()
    assert message == (f"Kön kan inte flyttas dit: överflödet skulle gå runt i en ring "
                       f"({second_name} → {first_name} → {second_name}). Välj en annan kö.")
    assert overflow.input_value() == first, "the form keeps what was typed"
    assert region.get_by_label("Väntetid i minuter").input_value() == "10"
    assert region.get_by_label("Höj prioriteten när väntetiden gått ut").is_checked()
    assert _policy(api, second) == {"queue": second, "timeout_s": None,
                                    "overflow_queue": None, "raise_priority": False}
    assert_accessible(page)
    screenshot(page, "admin-queues-cycle")

    # A priority raise instead is accepted.
    region.get_by_label("Flytta sedan till kö").select_option(value="")
    region.get_by_role("button", name=f"Spara: {second_name}").click()
    page.get_by_role("status").filter(has_text=f"Inställningen för {second_name} är sparad.") \
        .wait_for()
    assert _policy(api, second) == {"queue": second, "timeout_s": 600, "overflow_queue": None,
                                    "raise_priority": True}

    # The channels' default queues, as the router reads them.
    defaults = committed.execute(select(ChannelDefaultQueue.channel, Queue.name).join(
        Queue, Queue.id == ChannelDefaultQueue.queue_id)).all()
    committed.rollback()
    table = page.get_by_role("table", name="Kanalernas standardköer")
    for channel, name in defaults:
        label = t(f"case.channel.{channel}")
        chosen = table.get_by_role("combobox", name=f"Standardkö för {label}")
        assert chosen.locator("option:checked").inner_text() == name
    assert table.locator("tbody tr").count() == len(Channel)
    screenshot(page, "admin-queues")

    # A bad timeout is refused next to its field; nothing saved.
    region = page.get_by_role("region", name=first_name, exact=True)
    region.get_by_label("Väntetid i minuter").fill("fem")
    region.get_by_role("button", name=f"Spara: {first_name}").click()
    page.get_by_role("alert").wait_for()
    timeout = page.get_by_role("region", name=first_name, exact=True) \
        .get_by_label("Väntetid i minuter")
    assert timeout.get_attribute("aria-invalid") == "true"
    assert _policy(api, first)["timeout_s"] == 300

    # Guides are refused.
    guide = sign_in(new_page(), "guide")
    assert guide.request.get("/admin/queues").status == 403
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/admin/queues")
    screenshot(page, "admin-queues-320")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)


def _defaults(api) -> dict:
    return {d["channel"]: d["queue"] for d in api("GET", DEFAULTS)["items"]}


@pytest.fixture
def email_default(api):
    """E-mail's default queue, put back after the test."""
    before = _defaults(api)["email"]
    yield before
    api("PUT", f"{DEFAULTS}/email", json={"queue": before})


def test_a_channels_default_queue_changed_on_the_page_routes_the_next_email(
        api, committed, email_default, supervisor_page, new_page):
    page = supervisor_page
    other, other_name = committed.execute(select(Queue.slug, Queue.name).where(
        Queue.slug != email_default).order_by(Queue.id).limit(1)).one()
    committed.rollback()
    page.goto("/admin/queues")
    table = page.get_by_role("table", name="Kanalernas standardköer")
    table.get_by_role("combobox", name="Standardkö för E-post").select_option(value=other)
    table.get_by_role("button", name="Spara standardkö för E-post").click()
    page.get_by_role("status").filter(
        has_text=f"Standardkön för E-post är nu {other_name}.").wait_for()
    assert page.get_by_role("table", name="Kanalernas standardköer") \
        .get_by_role("combobox", name="Standardkö för E-post").input_value() == other
    assert_accessible(page)
    screenshot(page, "admin-queues-default-saved")

    # The API shows it, the audit trail names the supervisor.
    assert _defaults(api)["email"] == other
    maria = committed.scalar(select(User.id).where(User.email == "maria.svensson@lund.example"))
    entry = committed.scalars(select(AuditEntry).where(
        AuditEntry.action == "channel_default.changed", AuditEntry.entity_id == "email")
        .order_by(AuditEntry.id.desc())).first()
    committed.rollback()
    assert entry.actor == f"user:{maria}"
    assert entry.data == {"old": {"queue": email_default}, "new": {"queue": other}}

    # Behaviour: an e-mail no rule matches would land in the new queue (the router's own
    # matching, nothing stored).
    trial = api("POST", "/api/v1/routing/rules/dry-run", json={
        "subject": "Xylofonkonsert i kvarteret", "channel": "email"})
    assert (trial["reason"], trial["queue"]) == ("channel_default", other)

    # A queue that is gone by the time the form is sent: refused next to the field.
    chosen = page.get_by_role("table", name="Kanalernas standardköer") \
        .get_by_role("combobox", name="Standardkö för E-post")
    chosen.evaluate("select => { select.options[select.selectedIndex].value = 'borttagen'; }")
    page.get_by_role("button", name="Spara standardkö för E-post").click()
    page.get_by_role("alert").wait_for()
    chosen = page.get_by_role("table", name="Kanalernas standardköer") \
        .get_by_role("combobox", name="Standardkö för E-post")
    assert chosen.get_attribute("aria-invalid") == "true"
    message = page.locator("#" + chosen.get_attribute("aria-describedby")).inner_text()
    assert message == "Välj en av köerna i listan."
    assert _defaults(api)["email"] == other

    # Guides are refused, and nothing changes.
    guide = sign_in(new_page(), "guide")
    token = guide.locator('meta[name="csrf-token"]').get_attribute("content")
    assert guide.request.post("/admin/queues/channel-defaults/email", form={
        "queue": email_default, "csrf_token": token}).status == 403
    assert _defaults(api)["email"] == other
