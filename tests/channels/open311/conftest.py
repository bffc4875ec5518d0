import uuid

import pytest

from citizencenter.channels.open311 import service as open311
from citizencenter.organisation.models import Category
from tests.conftest import cleared_keys

LAMP = {"code": "lampa", "datatype": "singlevaluelist", "required": True,
        "description": "Vilken lampa?",
        "values": [{"key": "gatlampa", "name": "Gatlampa"},
                   {"key": "parklampa", "name": "Lampa i park"}]}
FLOOR = {"code": "stolpe", "datatype": "string", "required": False,
         "description": "Stolpens nummer"}


def publish_lamps(session) -> Category:
    """A category of its own, published as a service with a unique code."""
    suffix = uuid.uuid4().hex[:8]
    session.add(Category(slug=f"gatubelysning-{suffix}", name="Gatubelysning"))
    session.commit()
    return open311.publish(session, f"gatubelysning-{suffix}", f"lampa-{suffix}",
                           description="Trasig gatubelysning", group="Gator och trafik",
                           keywords=["lampa", "belysning"], attributes=[LAMP, FLOOR])


@pytest.fixture
def open311_redis(redis_server):
    """The app's Redis with the Open311 rate counters cleared before and after."""
    with cleared_keys(redis_server, "citizencenter:open311:*") as client:
        yield client


@pytest.fixture
def lamps(session, open311_redis) -> Category:
    return publish_lamps(session)


@pytest.fixture
def api_key(session) -> str:
    return open311.issue_key(session, f"Felanmälan-app {uuid.uuid4().hex[:6]}")
