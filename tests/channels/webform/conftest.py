import pytest
import redis


@pytest.fixture
def limiter_redis(redis_server):
    """The app's Redis, with the web form's counters cleared before and after each test."""
    client = redis.Redis.from_url(redis_server.url)

    def clear():
        for key in client.scan_iter("citizencenter:webform:*"):
            client.delete(key)

    clear()
    yield client
    clear()
    client.close()


@pytest.fixture
def form_client(client, limiter_redis):
    return client
