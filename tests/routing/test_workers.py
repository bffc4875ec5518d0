"""Routing with real Celery worker processes, Redis and many cases at once."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from citizencenter import db
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.integrations import signatures
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import assignment, rules
from citizencenter.routing.models import GuideProfile, RoutingDecision
from tests.factories import bearer, case_payload
from tests.routing.conftest import add_guide

pytestmark = pytest.mark.worker


@pytest.fixture
def worker_env(worker_env, smtp_inbox) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_inbox.port)}


def _wait_until(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return time.monotonic() - start
        finally:
            db.session.remove()  # an open SQLite transaction would hold the write lock
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _settled(ids) -> bool:
    routed = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.id.in_(ids), Case.routed_at.is_not(None)))
    pending = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.published_at.is_(None)))
    return routed == len(ids) and pending == 0


def _steady(ids, quiet_s: float = 2.0):
    """A predicate that holds once the number of assigned cases stayed the same a while."""
    seen = {"count": -1, "since": time.monotonic()}

    def steady() -> bool:
        count = db.session.scalar(select(func.count()).select_from(Case).where(
            Case.id.in_(ids), Case.assignee_id.is_not(None)))
        if count != seen["count"]:
            seen.update(count=count, since=time.monotonic())
        return _settled(ids) and time.monotonic() - seen["since"] >= quiet_s

    return steady


def _twenty_guides(session) -> list[GuideProfile]:
    guides = []
    for n in range(20):
        channels = [["email", "social", "webform"], ["email"], ["social", "webform"],
                    ["email", "webform"]][n % 4]
        guides.append(add_guide(
            session, idle_for_s=1000 - n * 37,
            skills={"channels": channels, "languages": ["sv", "en"] if n % 3 == 0 else ["sv"],
                    "categories": ["bygglov"] if n % 5 in (0, 1) else []},
            capacities={"email": 1 + n % 5, "social": 1 + n % 3, "webform": 1 + n % 2}))
    return guides


def test_a_burst_of_cases_is_assigned_once_within_capacity_skills_and_idle_order(
        app, routing_committed, start_celery, database_url):
    session = routing_committed
    count = 500 if database_url.startswith("postgresql") else 150
    guides = {g.user_id: g for g in _twenty_guides(session)}
    rules.create_rule(session, accounts.SYSTEM, {
        "name": "Bygglov", "position": 1, "conditions": {"keywords": ["bygglov"]},
        "actions": {"queue": "epost", "required_skills": {"categories": ["bygglov"]}}})
    _, token = accounts.create_token(session, "burst", role="guide")
    start_celery("worker")
    start_celery("worker")

    def post(n: int) -> str:
        channel = ("email", "social", "webform")[n % 3]
        subject = f"Bygglovet nr {n}" if n % 5 == 0 else f"Fråga {n}"
        description = "Hello, how do I apply? Please tell me what the rules are." \
            if n % 7 == 0 else "Hej, jag undrar hur det går med min fråga."
        body = case_payload(channel=channel, subject=subject, description=description)
        del body["category"]
        response = app.test_client().post("/api/v1/cases", headers=bearer(token), json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        ids = [uuid.UUID(i) for i in pool.map(post, range(count))]
    _wait_until(lambda: _settled(ids), 180, f"all {count} cases to be routed")
    print(f"{count} cases created and routed in {time.monotonic() - started:.1f}s")
    _wait_until(_steady(ids), 60, "assignments to stop changing")

    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    assigned = [c for c in cases.values() if c.assignee_id is not None]
    waiting = [c for c in cases.values() if c.assignee_id is None]
    assert assigned and waiting  # more cases than capacity: both must happen
    decisions = session.scalars(select(RoutingDecision).where(
        RoutingDecision.case_id.in_(ids), RoutingDecision.kind == "assigned")).all()
    per_case = {}
    for d in decisions:
        per_case.setdefault(d.case_id, []).append(d)
    # Assigned once: one decision per assigned case, naming that guide; none for the rest.
    assert {cid for cid, ds in per_case.items() if len(ds) > 1} == set()
    assert set(per_case) == {c.id for c in assigned}
    assert all(per_case[c.id][0].chosen_user_id == c.assignee_id for c in assigned)
    # No capacity exceeded, skills respected.
    loads = assignment.loads(session, list(guides))
    for user_id, load in loads.items():
        for channel, n in load.items():
            assert n <= guides[user_id].capacities.get(channel, 0), (user_id, channel, n)
    for c in assigned:
        assert assignment.needs(c.channel.value, c.language, c.required_skills) \
            <= set(guides[c.assignee_id].skills)
    assert any(c.required_skills == ["category:bygglov"] for c in assigned)
    assert any(c.language == "en" for c in assigned)
    # Nobody who could take a waiting case has room left: the queue is real, not lost work.
    for c in waiting:
        assert c.waiting_since is not None
        need = assignment.needs(c.channel.value, c.language, c.required_skills)
        for user_id, profile in guides.items():
            if need <= set(profile.skills):
                assert loads[user_id].get(c.channel.value, 0) >= \
                    profile.capacities.get(c.channel.value, 0), (c.id, user_id)
    # Longest idle first: the chosen guide is the first candidate that fitted when locked.
    for d in decisions:
        first_fit = next(x for x in d.candidates if x["fit"] == "ok")
        assert first_fit["user_id"] == d.chosen_user_id
        idle = [x["idle_since"] for x in d.candidates]
        assert idle == sorted(idle)


def test_a_guide_becoming_available_gets_the_oldest_waiting_case_within_a_second(
        app, routing_committed, start_celery):
    session = routing_committed
    newcomer = add_guide(session, presence="offline", capacities={"email": 1})
    _, token = accounts.create_token(session, "presence", user_email=(
        session.get(User, newcomer.user_id).email))
    client = app.test_client()
    start_celery("worker")
    now = utcnow()
    ids = []
    for minutes in (5, 50, 20, 1):
        response = client.post("/api/v1/cases", headers=bearer(token), json=case_payload(
            received_at=(now - timedelta(minutes=minutes)).isoformat()))
        ids.append(uuid.UUID(response.get_json()["id"]))
    _wait_until(lambda: _settled(ids), 20, "the cases to be routed and waiting")
    assert db.session.scalar(select(func.count()).select_from(Case).where(
        Case.id.in_(ids), Case.waiting_since.is_not(None))) == 4
    db.session.remove()
    started = time.monotonic()
    response = client.put(f"/api/v1/routing/guides/{newcomer.user_id}/presence",
                          json={"presence": "available"}, headers=bearer(token))
    assert response.status_code == 200

    def taken():
        return db.session.scalars(select(Case.id).where(
            Case.assignee_id == newcomer.user_id)).all()

    _wait_until(lambda: taken(), 5, "the guide to get a case")
    elapsed = time.monotonic() - started
    assert taken() == [ids[1]]  # the one waiting 50 minutes
    assert elapsed < 1.0, f"took {elapsed:.2f}s"


def test_a_forwarded_case_reaches_the_department_by_mail_and_webhook_despite_a_failure(
        app, routing_committed, start_celery, smtp_inbox, webhook_receiver):
    from citizencenter.routing import notifications
    from citizencenter.routing.models import CaseForwarding

    session = routing_committed
    secret = notifications.set_webhook(session, "miljo", webhook_receiver.url,
                                       app.config["SECRET_KEY"])
    _, token = accounts.create_token(session, "forwarder", role="guide")
    client = app.test_client()
    start_celery("worker")
    case = client.post("/api/v1/cases", headers=bearer(token), json=case_payload()).get_json()
    response = client.post(f"/api/v1/cases/{case['id']}/forward", headers=bearer(token),
                           json={"department": "miljo", "note": "Buller från byggarbetsplats."})
    assert response.status_code == 201, response.get_json()
    forwarding_id = response.get_json()["id"]

    def delivered() -> bool:
        row = db.session.get(CaseForwarding, forwarding_id)
        return bool(row.email_sent_at and row.webhook_delivered_at)

    _wait_until(delivered, 30, "the department to be told")
    assert len(webhook_receiver.requests) == 2  # the first answered 500, the retry 204
    assert {h["webhook-id"] for h, _ in webhook_receiver.requests} == {f"fwd_{forwarding_id}"}
    headers, body = webhook_receiver.requests[-1]
    signatures.verify([secret], headers["webhook-id"], headers["webhook-timestamp"],
                      headers["webhook-signature"], body)
    mails = [m for rcpt, m in smtp_inbox.messages if rcpt == ["miljo@lund.example"]]
    assert len(mails) == 1 and case["reference"] in mails[0]
