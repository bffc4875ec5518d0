"""Case events: the hook itself, and what a subscriber from above is told over a case's life."""

import uuid

import pytest
from sqlalchemy import select

from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases import events
from citizencenter.sla.enums import Metric, TimerStatus
from citizencenter.sla.models import SlaTimer
from tests.factories import bearer, create_case


@pytest.fixture
def hook(monkeypatch):
    """The app's subscribers, in a copy this test may add to."""
    monkeypatch.setattr(events, "_subscribers",
                        {name: list(found) for name, found in events._subscribers.items()})
    return events


def test_subscribers_run_in_order_once_and_unknown_events_are_refused(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {name: [] for name in events.EVENTS})
    hook, heard = events, []
    first, second = (lambda s, case, **data: heard.append(("first", case, data)),
                     lambda s, case, **data: heard.append(("second", case, data)))
    hook.subscribe("assigned", first)
    hook.subscribe("assigned", second)
    hook.subscribe("assigned", first)  # create_app runs once per app: subscribing is idempotent
    hook.publish(None, "assigned", "case", actor="system", previous=None)
    assert heard == [("first", "case", {"actor": "system", "previous": None}),
                     ("second", "case", {"actor": "system", "previous": None})]
    with pytest.raises(ValueError):
        hook.subscribe("deleted", first)
    with pytest.raises(ValueError):
        hook.publish(None, "deleted", "case")


def test_publishing_before_the_app_subscribed_anything_is_refused(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {name: [] for name in events.EVENTS})
    with pytest.raises(RuntimeError, match="create_app"):
        events.publish(None, "created", "case", actor="system")


def test_the_app_subscribes_clocks_routing_and_the_trail_in_that_order(app):
    names = [f"{h.__module__}.{h.__name__}" for h in events.subscribers("status_changed")]
    assert names[:4] == ["citizencenter.sla.service._moved",
                         "citizencenter.routing.service._capacity_freed",
                         "citizencenter.routing.service._reopened",
                         "citizencenter.cases.trail._status_changed"]
    assert "citizencenter.routing.service._waiting_again" in [
        f"{h.__module__}.{h.__name__}" for h in events.subscribers("assigned")]


def test_a_subscriber_hears_a_case_from_opening_to_return(client, tokens, session, hook):
    heard = []

    def listen(event):
        def handler(_session, case, **data):
            heard.append((event, case.id if case is not None else data.pop("case_id"),
                          {k: getattr(v, "value", v) if k != "message" else v.body
                           for k, v in data.items()}))
        return handler

    for name in events.EVENTS:
        hook.subscribe(name, listen(name))
    guide = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    case = create_case(client, tokens["guide"])
    case_id, url = uuid.UUID(case["id"]), f"/api/v1/cases/{case['id']}"
    auth = bearer(tokens["guide"])
    assert client.get(url, headers=auth).status_code == 200
    assert client.patch(url, json={"assignee": guide.id},
                        headers={**auth, "If-Match": '"1"'}).status_code == 200
    assert client.post(f"{url}/messages", json={"direction": "outbound", "body": "Hej!"},
                       headers=auth).status_code == 201
    assert client.post(f"{url}/forward", json={"department": "stadsbyggnad"},
                       headers=auth).status_code == 201
    assert client.post(f"{url}/send-back", json={},
                       headers=bearer(tokens["department"])).status_code == 200

    department = session.scalar(select(User).where(User.email == "johan.berg@lund.example"))
    actor = f"user:{guide.id}"
    assert heard[:7] == [
        ("created", case_id, {"actor": actor}),
        ("viewed", case_id, {"actor": actor, "view": "case"}),
        ("assigned", case_id, {"actor": actor, "previous": None}),
        ("status_changed", case_id, {"actor": actor, "previous": "new"}),
        ("message_added", case_id, {"actor": actor, "message": "Hej!"}),
        ("forwarded", case_id, {"actor": actor, "previous": "open",
                                "department": "stadsbyggnad"}),
        ("returned", case_id, {"actor": f"user:{department.id}", "previous": "forwarded"}),
    ]
    assert {event for event, _, _ in heard[7:]} <= {"assigned"}  # back in the queue: routed
    # The subscribers of the app did their part: the trail, and the department's clock.
    trail = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case_id))
        .order_by(AuditEntry.id)).all()
    assert trail == ["case.created", "case.read", "case.updated", "case.status_changed",
                     "message.added", "case.forwarded", "case.returned"]
    department_clocks = session.scalars(select(SlaTimer.status).where(
        SlaTimer.case_id == case_id, SlaTimer.metric == Metric.DEPARTMENT_RESOLUTION)).all()
    assert department_clocks == [TimerStatus.STOPPED]  # started, then finished on return
