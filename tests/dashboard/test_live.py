"""Live figures: from the database, through the Redis snapshot, and as a stream of changes."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import inspect

from citizencenter import redis_pool
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.dashboard import service
from citizencenter.db import utcnow
from citizencenter.reports.service import refresh_rollups, report_settings
from tests.factories import bearer
from tests.reports.dataset import STOCKHOLM


@pytest.fixture
def store(app):
    client = redis_pool.client(app.config["REDIS_URL"])
    client.delete(service.SNAPSHOT_KEY)
    yield client
    client.delete(service.SNAPSHOT_KEY)


def _waiting_call(session, seconds_ago: float, n: int) -> None:
    entered = utcnow() - timedelta(seconds=seconds_ago)
    session.add(Call(source="live", call_id=f"live-{n}", queue="kontaktcenter",
                     outcome="waiting", entered_at=entered,
                     local_date=entered.astimezone(STOCKHOLM).date(),
                     local_hour=entered.astimezone(STOCKHOLM).hour))
    session.commit()


def _unanswered_email(session, hours_ago: float) -> None:
    session.add(Case(id=uuid.uuid4(), reference=f"LIVE-{uuid.uuid4().hex[:8]}",
                     channel="email", subject="Väntar på svar",
                     received_at=utcnow() - timedelta(hours=hours_ago)))
    session.commit()


def _live(client, tokens):
    response = client.get("/api/v1/dashboard/live", headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200
    return response.get_json()


def test_without_a_snapshot_the_figures_come_from_the_database(client, session, tokens, store):
    before = _live(client, tokens)
    _waiting_call(session, 95, 1)
    _waiting_call(session, 20, 2)
    _waiting_call(session, 5 * 3600, 3)  # its end was lost: not waiting any more
    _unanswered_email(session, 30)
    live = _live(client, tokens)
    assert live["source"] == "database"
    assert live["calls_waiting"] == before["calls_waiting"] + 2
    assert 95 <= live["longest_wait_seconds"] < 120
    assert live["email_backlog"]["count"] == before["email_backlog"]["count"] + 1
    assert live["email_backlog"]["oldest_wait_seconds"] >= 30 * 3600
    assert set(live["guides"]) == {"available", "busy", "away", "offline"}
    assert set(live["today"]) == {"phone", "email", "social", "webform", "walk_in"}
    ledger = inspect(session.connection()).has_table("sla_ledger")
    assert (live["breaches_source"] == "sla_ledger") is ledger
    assert (live["breaches_today"] is None) is not ledger


def test_the_snapshot_is_read_from_redis_and_published_on_change(app, client, session, tokens,
                                                                 store):
    settings = report_settings(app.config)
    listener = store.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(service.CHANGES_CHANNEL)
    assert service.publish_snapshot(session, store, settings) is True
    assert service.publish_snapshot(session, store, settings) is False  # nothing changed
    _waiting_call(session, 10, 4)
    assert service.publish_snapshot(session, store, settings) is True
    published = []
    for _ in range(20):
        message = listener.get_message(timeout=0.5)
        if message:
            published.append(json.loads(message["data"]))
        if len(published) == 2:
            break
    listener.close()
    assert published[1]["calls_waiting"] == published[0]["calls_waiting"] + 1
    live = _live(client, tokens)
    assert live["source"] == "redis" and live["calls_waiting"] == published[1]["calls_waiting"]


def test_the_stream_sends_the_snapshot_then_changes_and_heartbeats(app, client, session,
                                                                   tokens, store):
    settings = report_settings(app.config)
    service.publish_snapshot(session, store, settings)
    app.config.update(DASHBOARD_HEARTBEAT_S=1, DASHBOARD_STREAM_MAX_S=20)
    try:
        response = client.get("/api/v1/dashboard/stream", headers=bearer(tokens["supervisor"]),
                              buffered=False)
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        chunks = iter(response.response)
        first = next(chunks)
        first = first.decode() if isinstance(first, bytes) else first
        assert first.startswith("retry: 3000") and "event: snapshot" in first
        snapshot = json.loads(first.split("data: ", 1)[1])
        _waiting_call(session, 3, 5)
        service.publish_snapshot(session, store, settings)
        seen, change = [], None
        for chunk in chunks:
            chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
            seen.append(chunk)
            if chunk.startswith("event: snapshot"):
                change = json.loads(chunk.split("data: ", 1)[1])
            if change and any(c.startswith(": heartbeat") for c in seen):
                break
        response.close()
    finally:
        app.config.update(DASHBOARD_HEARTBEAT_S=15, DASHBOARD_STREAM_MAX_S=300)
    assert change["calls_waiting"] == snapshot["calls_waiting"] + 1


def test_live_figures_need_the_reports_scope(client, tokens):
    for path in ("/api/v1/dashboard/live", "/api/v1/dashboard/stream"):
        assert client.get(path, headers=bearer(tokens["guide"])).status_code == 403
        assert client.get(path).status_code == 401


def _answered_call(session, seconds_ago: float, wait: float, n: int) -> None:
    entered = utcnow() - timedelta(seconds=seconds_ago)
    session.add(Call(source="live", call_id=f"live-answered-{n}", queue="kontaktcenter",
                     outcome="answered", entered_at=entered, wait_s=wait, talk_s=90.0,
                     local_date=entered.astimezone(STOCKHOLM).date(),
                     local_hour=entered.astimezone(STOCKHOLM).hour))
    session.commit()


def test_the_json_is_the_service_s_snapshot_unchanged(app, client, session, tokens, store):
    _answered_call(session, 60, 30.0, 1)
    _answered_call(session, 30, 150.0, 2)
    _waiting_call(session, 40, 5)
    _unanswered_email(session, 2)
    refresh_rollups(session, app.config)
    settings = report_settings(app.config)

    # From the database: the same keys and figures; only the ages move between the calls.
    def steady(snapshot: dict) -> dict:
        return json.loads(json.dumps(service._stable(snapshot)))

    response = client.get("/api/v1/dashboard/live", headers=bearer(tokens["supervisor"]))
    ours = service.current_snapshot(session, store, settings)
    assert ours["source"] == "database" and ours["today"]["phone"]["service_level_60"] > 0
    assert steady(response.get_json()) == steady(ours)
    assert set(response.get_json()) == set(ours)

    # From Redis: byte for byte.
    service.publish_snapshot(session, store, settings)
    response = client.get("/api/v1/dashboard/live", headers=bearer(tokens["supervisor"]))
    ours = service.current_snapshot(session, store, settings)
    assert ours["source"] == "redis" and ours["longest_wait_seconds"] is not None
    assert response.get_data() == app.json.response(ours).get_data()
