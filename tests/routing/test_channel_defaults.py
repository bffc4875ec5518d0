"""Each channel's default queue through the API: listed, changed (audited), read by the
router for the next case no rule places; an unknown queue is 404, an unknown channel 422."""

import pytest
from sqlalchemy import select, update

from citizencenter.accounts.service import SYSTEM
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.organisation.models import ChannelDefaultQueue, Queue
from citizencenter.routing.models import GuideProfile, Presence
from citizencenter.routing.service import route_case
from tests.factories import bearer

URL = "/api/v1/routing/channel-defaults"


@pytest.fixture(autouse=True)
def nobody_free(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


def _listed(client, token) -> dict:
    response = client.get(URL, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return {item["channel"]: item["queue"] for item in response.get_json()["items"]}


def test_a_channels_default_queue_is_changed_audited_and_routes_the_next_case(
        client, tokens, session):
    listed = _listed(client, tokens["supervisor"])
    assert set(listed) == {c.value for c in Channel}
    stored = dict(session.execute(select(ChannelDefaultQueue.channel, Queue.slug).join(
        Queue, Queue.id == ChannelDefaultQueue.queue_id)).all())
    assert {c: q for c, q in listed.items() if q is not None} == stored
    other = session.scalar(select(Queue.slug).where(Queue.slug != listed["email"])
                           .order_by(Queue.id).limit(1))

    response = client.put(f"{URL}/email", headers=bearer(tokens["supervisor"]),
                          json={"queue": other})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"channel": "email", "queue": other}
    assert _listed(client, tokens["supervisor"])["email"] == other
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "channel_default.changed", AuditEntry.entity_id == "email")
        .order_by(AuditEntry.id.desc())).first()
    assert entry.actor.startswith("user:")
    assert entry.data == {"old": {"queue": listed["email"]}, "new": {"queue": other}}

    # The router reads it: an e-mail no rule matches goes to the new queue.
    case = cases.open_case(session, SYSTEM, channel=Channel.EMAIL,
                           subject="Xylofonkonsert i kvarteret", description="")
    route_case(session, case.id)
    session.refresh(case)
    assert case.queue.slug == other and case.routing_rule_version_id is None


def test_unknown_queue_is_404_unknown_channel_422_guides_403(client, tokens, session):
    auth = bearer(tokens["admin"])
    before = _listed(client, tokens["admin"])
    response = client.put(f"{URL}/email", headers=auth, json={"queue": "ingenstans"})
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    response = client.put(f"{URL}/fax", headers=auth, json={"queue": "kontaktcenter"})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in response.get_json()["errors"]] == ["channel"]
    response = client.put(f"{URL}/email", headers=auth, json={})
    assert response.status_code == 422
    assert client.put(f"{URL}/email", headers=bearer(tokens["guide"]),
                      json={"queue": "kontaktcenter"}).status_code == 403
    assert client.get(URL, headers=bearer(tokens["guide"])).status_code == 403
    assert _listed(client, tokens["admin"]) == before
