"""When each API token was last used: requests note it in Redis (throttled), the beat task
moves the notes into api_token_uses, the token list shows it; tokens themselves are not
written, so the per-process cache of them stays valid."""

import time

import pytest
import redis
from sqlalchemy import select

from citizencenter.accounts import token_uses
from citizencenter.accounts.models import ApiTokenUse
from citizencenter.reference_cache import current_version
from tests.conftest import cleared_keys
from tests.factories import bearer
from workers.schedule import beat_schedule
from workers.tasks.accounts import record_token_uses


@pytest.fixture
def notes(redis_server, monkeypatch):
    monkeypatch.setattr(token_uses, "_noted", {})  # no throttling left from other tests
    with cleared_keys(redis_server, token_uses.KEY) as client:
        yield redis.Redis.from_url(redis_server.url, decode_responses=True)
        client.delete(token_uses.KEY)


def _issue(client, admin: str, name: str) -> tuple[int, str]:
    issued = client.post("/api/v1/tokens", headers=bearer(admin),
                         json={"name": name, "scopes": ["cases:read"]}).get_json()
    return issued["id"], issued["secret"]


def _listed(client, admin: str, token_id: int) -> dict:
    items = client.get("/api/v1/tokens", headers=bearer(admin)).get_json()["items"]
    return next(item for item in items if item["id"] == token_id)


def test_a_used_token_shows_when_and_an_unused_one_never(client, tokens, session, notes):
    used, secret = _issue(client, tokens["admin"], "används")
    unused, _ = _issue(client, tokens["admin"], "oanvänd")
    version = current_version(session)
    session.rollback()
    before = int(time.time())
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    noted = notes.hgetall(token_uses.KEY)
    assert before <= int(noted[str(used)]) <= int(time.time())
    assert str(unused) not in noted
    # The token row was not written: the cached resolutions of every token stay valid.
    assert current_version(session) == version
    session.rollback()
    assert record_token_uses() >= 1  # the beat's task, every minute
    assert beat_schedule(client.application.config)["record-token-uses"]["task"] == \
        record_token_uses.name
    assert str(used) not in notes.hgetall(token_uses.KEY)  # moved, not kept twice
    assert _listed(client, tokens["admin"], used)["last_used_at"] is not None
    assert _listed(client, tokens["admin"], unused)["last_used_at"] is None


def test_notes_are_throttled_and_the_later_time_wins(client, tokens, session, notes):
    token_id, secret = _issue(client, tokens["admin"], "ofta")
    for _ in range(3):
        assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    first = notes.hget(token_uses.KEY, str(token_id))
    notes.hset(token_uses.KEY, str(token_id), "1000")  # a stale note: overwritten by none
    assert token_uses.record(session, notes) >= 1
    stored = session.get(ApiTokenUse, token_id).last_used_at
    assert int(stored.timestamp()) == 1000  # first note gone, the stale one recorded
    notes.hset(token_uses.KEY, str(token_id), first)
    token_uses.record(session, notes)
    session.expire_all()
    assert int(session.get(ApiTokenUse, token_id).last_used_at.timestamp()) == int(first)
    notes.hset(token_uses.KEY, str(token_id), "1000")  # older than what is stored
    token_uses.record(session, notes)
    session.expire_all()
    assert int(session.get(ApiTokenUse, token_id).last_used_at.timestamp()) == int(first)


def test_a_note_for_a_token_that_is_gone_is_dropped(session, notes):
    notes.hset(token_uses.KEY, "999999", str(int(time.time())))
    assert token_uses.record(session, notes) == 0
    assert notes.hgetall(token_uses.KEY) == {}
    assert session.scalar(select(ApiTokenUse).where(ApiTokenUse.token_id == 999999)) is None


def test_a_request_is_answered_when_redis_is_down(client, tokens, monkeypatch):
    monkeypatch.setattr(token_uses, "_noted", {})
    monkeypatch.setitem(client.application.config, "REDIS_URL", "redis://127.0.0.1:9/0")
    assert client.get("/api/v1/cases", headers=bearer(tokens["admin"])).status_code == 200
