"""The health probe against the suite's real Redis, stopped and started again."""

import time

import redis


def _probe_connections(url: str) -> list[str]:
    clients = redis.Redis.from_url(url).client_list()
    return [c["id"] for c in clients if c["name"] == "citizencenter-health"]


def test_the_health_probe_keeps_one_redis_connection_and_sees_an_outage(app, redis_server):
    client = app.test_client()
    assert client.get("/api/v1/health").get_json()["redis"] == "ok"
    kept = _probe_connections(redis_server.url)
    for _ in range(5):
        assert client.get("/api/v1/health").get_json() == {
            "status": "ok", "database": "ok", "redis": "ok"}
    assert len(kept) == 1 and _probe_connections(redis_server.url) == kept

    redis_server.stop()
    try:
        started = time.monotonic()
        response = client.get("/api/v1/health")
        assert (response.status_code, response.get_json()) == (
            200, {"status": "degraded", "database": "ok", "redis": "unavailable"})
        assert time.monotonic() - started < 5  # a dead Redis does not hang the probe
    finally:
        redis_server.start()
    assert client.get("/api/v1/health").get_json()["redis"] == "ok"
