"""The health probe against a real Redis that stops and starts again."""

import time

import redis

from citizencenter import create_app
from tests.conftest import TEST_SECRET_KEY, RedisServer


def test_the_health_probe_keeps_one_redis_connection_and_sees_an_outage(
        database_url, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    try:
        client = create_app({"DATABASE_URL": database_url, "REDIS_URL": server.url,
                             "SECRET_KEY": TEST_SECRET_KEY, "TESTING": True}).test_client()
        stats = redis.Redis.from_url(server.url)

        def connections() -> int:
            return stats.info("stats")["total_connections_received"]

        assert client.get("/api/v1/health").get_json()["redis"] == "ok"
        before = connections()
        for _ in range(5):
            assert client.get("/api/v1/health").get_json() == {
                "status": "ok", "database": "ok", "redis": "ok"}
        assert connections() == before  # the probes reused their connection

        server.stop()
        started = time.monotonic()
        response = client.get("/api/v1/health")
        assert (response.status_code, response.get_json()) == (
            200, {"status": "degraded", "database": "ok", "redis": "unavailable"})
        assert time.monotonic() - started < 5  # a dead Redis does not hang the probe

        server.start()
        assert client.get("/api/v1/health").get_json()["redis"] == "ok"
    finally:
        server.stop()
