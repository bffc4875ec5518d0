"""Staffing (/staffing) in a real browser: calls posted through the phone adapter on
earlier days, the page's hours and marks as GET /api/v1/staffing/coverage reports them."""

import re
import time
from datetime import datetime, timedelta
from datetime import time as clock

from citizencenter.accounts import service as accounts
from citizencenter.integrations import service as integrations
from tests.channels.phone.helpers import post_events
from tests.factories import bearer
from tests.reports.dataset import STOCKHOLM
from tests.web.conftest import assert_accessible, screenshot, sign_in

WEEKDAYS = ("Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag")


def _calls(day_offset: int, hour: int, count: int) -> list[dict]:
    day = datetime.now(STOCKHOLM).date() - timedelta(days=day_offset)
    events = []
    for n in range(count):
        entered = datetime.combine(day, clock(hour, 2 * n), STOCKHOLM)
        call_id = f"staff-{day_offset}-{hour}-{n}-{time.monotonic_ns()}"
        for seq, (kind, after) in enumerate((("call.queued", 0), ("call.abandoned", 40))):
            events.append({"event_id": f"{kind}-{call_id}", "source": "pbx", "type": kind,
                           "occurred_at": (entered + timedelta(seconds=after)).isoformat(),
                           "sequence": seq, "call_id": call_id, "queue": "kontaktcenter",
                           "agent": None, "caller": None, "metrics": {}})
    return events


def test_guides_needed_per_hour_against_guides_staffed(app, committed, start_celery,
                                                       supervisor_page, new_page, live_server):
    _, token, secret = integrations.create_integration(
        committed, "växeln (bemanning)", ["calls:write"], app.config["SECRET_KEY"])
    api_token = accounts.create_token(committed, "bemanning",
                                      user_email="maria.svensson@lund.example")[1]
    committed.commit()
    client = app.test_client()
    response = post_events(client, (token, secret), _calls(2, 10, 20) + _calls(3, 14, 6))
    committed.rollback()
    assert response.status_code == 202, response.get_json()
    start_celery("worker")  # applies the call events
    query = "?weeks=1&aht_s=240&target_service_level=0.8&answer_within_s=60"

    def coverage() -> dict:
        found = client.get(f"/api/v1/staffing/coverage{query}",
                           headers=bearer(api_token)).get_json()
        committed.rollback()
        return found

    deadline = time.monotonic() + 30
    while (api := coverage())["total_calls"] < 26 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert api["total_calls"] == 26
    by_day: dict[str, list] = {}
    for hour in api["hours"]:
        by_day.setdefault(hour["weekday"], []).append(hour)

    page = supervisor_page
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Bemanning").click()
    page.get_by_label("Antal veckor bakåt").fill("1")
    page.get_by_label("Hanteringstid per samtal (sekunder)").fill("240")
    page.get_by_label("Servicenivå (procent)").fill("80")
    page.get_by_label("Svar inom (sekunder)").fill("60")
    page.get_by_role("button", name="Visa").click()
    page.wait_for_url(re.compile(r"weeks=1"))
    english = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    shown_days = [h.inner_text() for h in page.get_by_role("heading", level=2).all()]
    assert shown_days == [WEEKDAYS[english.index(day)] for day in english if day in by_day]
    for day, hours in by_day.items():
        name = WEEKDAYS[english.index(day)]
        section = page.get_by_role("region", name=name)
        assert section.get_by_role("img", name=re.compile(f"per timme, {name}$")).count() == 1
        section.get_by_text("Visa som tabell").click()
        rows = section.get_by_role("table").locator("tbody tr")
        shown = [[c.inner_text() for c in row.locator("th, td").all()] for row in rows.all()]
        assert shown == [[f"{h['hour']:02d}:00", f"{h['calls']:.2f}".replace(".", ","),
                          str(h["guides_needed"]),
                          f"{h['guides_available']:.2f}".replace(".", ","),
                          "▲ Underbemannad" if h["understaffed"] else "Räcker"]
                         for h in hours]
        under = sum(h["understaffed"] for h in hours)
        assert section.locator(".under").count() == under  # the triangles in the chart
        if under:
            section.get_by_text(f"Underbemannade timmar: {under}").wait_for()
    # Twenty calls in one hour need guides no one was logged in to give.
    ten = next(h for h in api["hours"] if h["hour"] == 10 and h["calls"] >= 20)
    assert ten["understaffed"] and ten["guides_needed"] >= 2
    assert_accessible(page)
    screenshot(page, "staffing")

    page.goto("/staffing?weeks=99&target_percent=abc")
    assert page.get_by_role("alert").inner_text() == "Kontrollera fälten: ett värde är ogiltigt."
    weeks = page.get_by_label("Antal veckor bakåt")
    assert weeks.get_attribute("aria-invalid") == "true"
    assert page.locator(f"#{weeks.get_attribute('aria-describedby')}").inner_text() == \
        "Ange ett heltal mellan 1 och 26."
    assert_accessible(page)

    guide = sign_in(new_page(), "guide")
    assert guide.request.get("/staffing").status == 403
    guide.goto("/")
    assert guide.get_by_role("navigation").get_by_role("link", name="Bemanning").count() == 0
