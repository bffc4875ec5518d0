"""Breaches and warnings (/sla) in a real browser: cases made through the API, their timers
started and breached by a real Celery worker and beat; the page shows what
GET /api/v1/sla/at-risk reports, with its filters, the ledger and links to the cases."""

import re
import time
from datetime import timedelta

import pytest

from citizencenter.accounts import service as accounts
from citizencenter.db import utcnow
from tests.factories import bearer
from tests.web.conftest import assert_accessible, screenshot, sign_in


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout}s")


@pytest.fixture
def api(app, committed):
    token = accounts.create_token(committed, "tidsgränser",
                                  user_email="maria.svensson@lund.example")[1]
    committed.commit()
    client = app.test_client()

    def call(method: str, path: str, **kwargs):
        response = client.open(path, method=method, headers=bearer(token), **kwargs)
        committed.rollback()  # SQLite: no read left open under the worker's writes
        assert response.status_code < 300, response.get_json()
        return response.get_json()

    return call


@pytest.fixture
def quick_policies(api):
    """Ten-minute first-response targets for low-priority web-form and e-mail cases."""
    slugs = []
    for channel in ("webform", "email"):
        slug = f"snabb-{channel}-{time.monotonic_ns()}"
        api("POST", "/api/v1/sla/policies", json={
            "slug": slug, "name": f"Snabbt svar {channel}", "metric": "first_response",
            "channel": channel, "priority": "low", "target_value": 10,
            "target_unit": "minutes", "warn_at_percent": 50})
        slugs.append(slug)
    yield
    for slug in slugs:
        api("PATCH", f"/api/v1/sla/policies/{slug}", json={"active": False})


def _case(api, channel: str, minutes_ago: float, subject: str) -> dict:
    return api("POST", "/api/v1/cases", json={
        "channel": channel, "subject": subject, "description": "Test av tidsgränser.",
        "priority": "low",
        "received_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat()})


def _rows(page) -> list[tuple[str, str]]:
    """(reference, state) of each row the list shows."""
    rows = page.get_by_role("table").locator("tbody tr")
    return [(row.get_by_role("rowheader").get_by_role("link").inner_text(),
             row.locator(".sla-state").inner_text().strip(" ▲◆"))
            for row in rows.all()]


def _api_rows(api, query: str = "") -> list[tuple[str, str]]:
    names = {"breached": "Överskriden", "warning": "Varning: nära gränsen"}
    return [(item["reference"], names[item["state"]])
            for item in api("GET", f"/api/v1/sla/at-risk{query}")["items"]]


def test_breached_and_warned_cases_with_their_ledger_filters_and_links(
        api, quick_policies, committed, worker_env, start_celery, supervisor_page, new_page,
        live_server):
    late = _case(api, "webform", 30, "Sen fråga via formulär")
    near = _case(api, "webform", 7, "Nästan sen fråga")
    mail = _case(api, "email", 30, "Sen fråga via e-post")
    _case(api, "webform", 0.5, "Ny fråga i tid")
    worker_env["SLA_SCAN_INTERVAL_S"] = "1"
    start_celery("worker")
    start_celery("beat")
    ours = {late["reference"], near["reference"], mail["reference"]}
    _until(lambda: ours <= {ref for ref, _ in _api_rows(api)}, 30,
           "the worker started and the beat scanned the timers")
    found = {ref: state for ref, state in _api_rows(api)}
    assert found[late["reference"]] == found[mail["reference"]] == "Överskriden"
    assert found[near["reference"]] == "Varning: nära gränsen"

    page = supervisor_page
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Tidsgränser").click()
    page.get_by_role("heading", level=1, name="Överskridna tider och varningar").wait_for()
    assert _rows(page) == _api_rows(api)
    assert_accessible(page)

    # The ledger explains each timer: the same lines the API gives, opened on demand.
    item = next(i for i in api("GET", "/api/v1/sla/at-risk")["items"]
                if i["reference"] == late["reference"])
    row = page.get_by_role("row", name=re.compile(late["reference"]))
    summary = row.get_by_text(re.compile(r"^Händelser \("))
    assert summary.inner_text().startswith(f"Händelser ({len(item['ledger'])})")
    summary.click()
    lines = row.locator(".sla-ledger li")
    assert lines.count() == len(item["ledger"]) >= 2
    assert "startad" in lines.first.inner_text()
    assert "överskriden" in lines.last.inner_text()
    screenshot(page, "sla")

    # Filters: state, channel and queue, each as the API filters.
    page.get_by_label("Läge").select_option(label="Överskriden")
    page.get_by_role("button", name="Filtrera").click()
    page.wait_for_url(re.compile(r"state=breached"))
    assert _rows(page) == _api_rows(api, "?state=breached")
    assert near["reference"] not in dict(_rows(page))
    page.get_by_label("Kanal").select_option(label="E-post")
    page.get_by_role("button", name="Filtrera").click()
    page.wait_for_url(re.compile(r"channel=email"))
    assert [ref for ref, _ in _rows(page)] == [
        ref for ref, _ in _api_rows(api, "?state=breached&channel=email")]
    assert mail["reference"] in dict(_rows(page))
    queue = api("GET", f"/api/v1/cases/{mail['id']}")["queue"]
    assert queue, "routing put the e-mail case in a queue"
    page.get_by_label("Läge").select_option(label="Alla")
    page.get_by_label("Kanal").select_option(label="Alla")
    page.get_by_label("Kö").select_option(value=queue)
    page.get_by_role("button", name="Filtrera").click()
    page.wait_for_url(re.compile(f"queue={queue}"))
    assert _rows(page) == _api_rows(api, f"?queue={queue}")
    assert mail["reference"] in dict(_rows(page))

    # Each case links to its case page.
    page.get_by_role("link", name=mail["reference"]).click()
    page.wait_for_url(f"**/cases/{mail['id']}")

    # Guides are refused and do not see the entry.
    guide = sign_in(new_page(), "guide")
    assert guide.request.get("/sla").status == 403
    guide.goto("/")
    assert guide.get_by_role("navigation").get_by_role("link", name="Tidsgränser").count() == 0


def test_nothing_at_risk_says_so(supervisor_page, live_server):
    page = supervisor_page
    page.goto("/sla?state=warning&channel=social")
    assert page.get_by_role("status").inner_text() == (
        "Inga ärenden har överskridit eller närmar sig sin tidsgräns.")
    assert page.get_by_label("Kanal").input_value() == "social"
    page.set_viewport_size({"width": 320, "height": 700})
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.goto("/sla?state=nonsense")
    assert page.get_by_role("heading", level=1).inner_text() == "Något gick fel"
