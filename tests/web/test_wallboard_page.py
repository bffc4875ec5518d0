"""The supervisors' wallboard in a real browser: its figures are the dashboard API's, kept
live over the stream from a real Celery beat and worker; guides are refused; the browser's
memory stays bounded while events keep coming (WALLBOARD_MEMORY_S seconds, default 60)."""

import os
import re
import time
from datetime import timedelta

import pytest

from citizencenter.accounts import service as accounts
from citizencenter.db import utcnow
from citizencenter.integrations import service as integrations
from tests.channels.phone.helpers import post_events
from tests.factories import bearer
from tests.web.conftest import assert_accessible, screenshot, sign_in

MEMORY_S = float(os.environ.get("WALLBOARD_MEMORY_S", "60"))
LEVELS = ("Telefon: besvarade inom 60 s", "Telefon: besvarade inom 120 s",
          "Telefon: direktsvar", "E-post: besvarad inom 24 h")


@pytest.fixture
def feed(app, committed, worker_env, start_celery):
    """A phone integration, a supervisor's API token, and the beat publishing every second."""
    _, token, secret = integrations.create_integration(
        committed, "växeln (väggtavla)", ["calls:write"], app.config["SECRET_KEY"])
    api_token = accounts.create_token(committed, "väggtavla",
                                      user_email="maria.svensson@lund.example")[1]
    committed.commit()
    worker_env["DASHBOARD_SNAPSHOT_S"] = "1"
    start_celery("worker")
    start_celery("beat")
    client = app.test_client()

    def live() -> dict:
        response = client.get("/api/v1/dashboard/live", headers=bearer(api_token))
        committed.rollback()  # SQLite: an open read would hold off the worker's writes
        assert response.status_code == 200
        return response.get_json()

    def send(events: list[dict]) -> None:
        committed.rollback()
        response = post_events(client, (token, secret), events)
        committed.rollback()
        assert response.status_code == 202, response.get_json()

    return live, send


def _event(kind: str, call_id: str, n: int) -> dict:
    return {"event_id": f"{kind}-{call_id}-{time.monotonic_ns()}", "source": "pbx",
            "type": kind, "occurred_at": (utcnow() - timedelta(seconds=30 - n)).isoformat(),
            "sequence": n, "call_id": call_id, "queue": "kontaktcenter", "agent": None,
            "caller": None, "metrics": {}}


def _tile(page, name: str) -> str:
    return page.get_by_role("region", name=name).locator(".wallboard-value").inner_text()


def _percent(value) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def _shown(page) -> dict:
    guides = page.get_by_role("region", name="Vägledare").get_by_role("listitem")
    return {"calls_waiting": _tile(page, "Samtal i kö"),
            "backlog": _tile(page, "E-post utan svar"),
            "breaches": _tile(page, "Överskridna tider i dag"),
            "failed": _tile(page, "Misslyckade utskick i dag"),
            "guides": sorted(" ".join(item.inner_text().split()) for item in guides.all()),
            "levels": {name: page.get_by_role("row", name=re.compile(f"^{name}"))
                       .get_by_role("cell").first.inner_text() for name in LEVELS}}


def _expected(live: dict) -> dict:
    names = {"available": "Tillgänglig", "busy": "Upptagen", "away": "Borta",
             "offline": "Utloggad"}
    phone, email = live["today"].get("phone", {}), live["today"].get("email", {})
    return {"calls_waiting": str(live["calls_waiting"]),
            "backlog": str(live["email_backlog"]["count"]),
            "breaches": "–" if live["breaches_today"] is None else str(live["breaches_today"]),
            "failed": str(live["failed_outgoing_today"]),
            "guides": sorted(f"{names[k]} {v}" for k, v in live["guides"].items()),
            "levels": dict(zip(LEVELS, (
                _percent(phone.get("service_level_60")),
                _percent(phone.get("service_level_120")),
                _percent(phone.get("direct_answer_rate")),
                _percent(email.get("answered_within_24h"))), strict=True))}


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s")


def _matches_api(page, live, timeout: float = 5) -> dict:
    """The board shows what the API reports. Both follow the same events, but the board
    by pushed snapshot: one may land between the two reads, so they are read again until
    they agree (or the last difference is shown). Returns the API's figures."""
    deadline = time.monotonic() + timeout
    while True:
        shown, snapshot = _shown(page), live()
        if shown == _expected(snapshot) or time.monotonic() > deadline:
            assert shown == _expected(snapshot)
            return snapshot
        time.sleep(0.2)


def test_guides_are_refused_and_do_not_see_the_menu_entry(supervisor_page, new_page,
                                                          live_server):
    guide_page = sign_in(new_page(), "guide")
    for path in ("/wallboard", "/wallboard?tv=1", "/wallboard/figures", "/wallboard/stream"):
        response = guide_page.request.get(path)
        assert response.status == 403, path
    guide_page.goto("/")
    assert guide_page.get_by_role("navigation").get_by_role("link", name="Väggtavla").count() == 0
    supervisor_page.goto("/")
    supervisor_page.get_by_role("navigation").get_by_role("link", name="Väggtavla").click()
    supervisor_page.get_by_role("heading", level=1, name="Väggtavla").wait_for()


def test_a_burst_of_call_events_shows_on_the_wallboard_as_the_api_reports_it(
        feed, supervisor_page, live_server):
    live, send = feed
    page = supervisor_page
    page.goto("/wallboard")
    assert page.get_by_role("navigation").count() == 1
    before = live()
    burst = [f"wall-{n}-{time.monotonic_ns()}" for n in range(6)]
    send([_event("call.queued", call_id, 0) for call_id in burst])
    expected = before["calls_waiting"] + len(burst)
    _until(lambda: live()["calls_waiting"] == expected, 10, "the API counts the burst")
    changed = time.monotonic()
    page.get_by_role("region", name="Samtal i kö").get_by_text(str(expected), exact=True) \
        .wait_for(timeout=5_000)
    elapsed = time.monotonic() - changed
    assert elapsed < 2.0, f"the wallboard showed the change after {elapsed:.2f}s"
    snapshot = _matches_api(page, live)
    # The longest wait counts up on its own, from the API's figure.
    wait = page.get_by_role("region", name="Längsta väntetid").locator(".wallboard-wait")
    first = wait.inner_text()
    minutes, seconds = (int(part) for part in first.split(":")[-2:])
    assert abs(minutes * 60 + seconds - snapshot["longest_wait_seconds"]) <= 3
    page.wait_for_timeout(2_100)
    assert wait.inner_text() != first
    assert_accessible(page)
    screenshot(page, "wallboard")

    # Half of them end: the board follows the API down again.
    send([_event("call.abandoned", call_id, 1) for call_id in burst[:3]])
    _until(lambda: live()["calls_waiting"] == expected - 3, 10, "the API counts the ends")
    page.get_by_role("region", name="Samtal i kö").get_by_text(str(expected - 3), exact=True) \
        .wait_for(timeout=2_000)
    _matches_api(page, live)

    # TV mode: the same figures without the header and the navigation.
    page.goto("/wallboard?tv=1")
    assert page.get_by_role("navigation").count() == 0
    assert page.get_by_role("banner").count() == 0
    _matches_api(page, live)
    assert_accessible(page)
    screenshot(page, "wallboard-tv")
    send([_event("call.abandoned", call_id, 1) for call_id in burst[3:]])
    _until(lambda: live()["calls_waiting"] == before["calls_waiting"], 10, "all calls ended")
    page.get_by_role("region", name="Samtal i kö") \
        .get_by_text(str(before["calls_waiting"]), exact=True).wait_for(timeout=2_000)


def test_the_wallboards_memory_stays_bounded_while_events_keep_coming(
        feed, supervisor_page, live_server):
    live, send = feed
    page = supervisor_page
    page.goto("/wallboard?tv=1")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def heap() -> float:
        cdp.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return metrics["JSHeapUsedSize"]

    def run(seconds: float) -> int:
        rounds, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            call_id = f"mem-{time.monotonic_ns()}"
            send([_event("call.queued", call_id, 0)])
            time.sleep(0.6)
            send([_event("call.abandoned", call_id, 1)])
            time.sleep(0.6)
            rounds += 1
        return rounds

    run(min(20.0, MEMORY_S / 3))  # warm up: the first swaps and compilations
    start = heap()
    samples = [start]
    rounds, chunks = 0, 4
    for _ in range(chunks):
        rounds += run(MEMORY_S / chunks)
        samples.append(heap())
    assert rounds >= MEMORY_S / 3
    _until(lambda: live()["calls_waiting"] is not None, 5, "the API answers")
    growth = samples[-1] - start
    print(f"wallboard JS heap over {MEMORY_S:.0f}s, {rounds} call rounds: "
          + ", ".join(f"{s / 1e6:.2f}" for s in samples) + " MB")
    assert growth < 1_000_000, f"the heap grew by {growth / 1e6:.2f} MB: {samples}"
    # Bounded, not climbing: the last sample is not above every earlier one by much.
    assert samples[-1] <= max(samples[:-1]) + 300_000, samples
