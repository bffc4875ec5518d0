import pytest

from tests.conftest import cleared_keys


@pytest.fixture
def limiter_redis(redis_server):
    """The app's Redis, with the web form's counters cleared before and after each test."""
    with cleared_keys(redis_server, "citizencenter:webform:*") as client:
        yield client


@pytest.fixture
def form_client(client, limiter_redis):
    return client
