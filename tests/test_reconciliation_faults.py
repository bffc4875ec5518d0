"""Fault injection with real processes: a broker that loses its messages, a worker killed
mid-burst. Every case that got 201 is routed exactly once; outgoing mail that never goes
is marked failed after the last retry."""

import socket
import time
import uuid

import pytest
from sqlalchemy import delete, func, select, update

from citizencenter import db, outbox
from citizencenter.accounts import service as accounts
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel, Direction
from citizencenter.cases.models import Case
from citizencenter.channels.email.models import EmailMessage
from citizencenter.dashboard import figures
from citizencenter.db import utcnow
from citizencenter.reports.service import report_settings
from citizencenter.routing.models import RoutingDecision
from tests.factories import bearer, case_payload

pytestmark = pytest.mark.worker
FAST_RECONCILE = {"RECONCILE_GRACE_S": "2", "RECONCILE_INTERVAL_S": "1"}


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _routed_per_case(ids) -> dict:
    try:
        return dict(db.session.execute(
            select(RoutingDecision.case_id, func.count())
            .where(RoutingDecision.case_id.in_(ids), RoutingDecision.kind == "routed")
            .group_by(RoutingDecision.case_id)).all())
    finally:
        db.session.remove()  # on SQLite an open transaction would hold the write lock


def _unrouted(ids) -> int:
    try:
        return db.session.scalar(select(func.count()).select_from(Case).where(
            Case.id.in_(ids), Case.routed_at.is_(None)))
    finally:
        db.session.remove()


def _post(client, token, n: int) -> uuid.UUID | None:
    response = client.post("/api/v1/cases", headers=bearer(token),
                           json=case_payload(channel="phone", subject=f"Skur {n}"))
    return uuid.UUID(response.get_json()["id"]) if response.status_code == 201 else None


def _redriven(ids) -> int:
    """Cases routing was asked for more than once: their first message was lost or stuck."""
    try:
        payloads = db.session.scalars(select(outbox.OutboxMessage.payload).where(
            outbox.OutboxMessage.topic == "case.created")).all()
    finally:
        db.session.remove()
    wanted = {str(case_id) for case_id in ids}
    asked: dict[str, int] = {}
    for payload in payloads:
        if payload["case_id"] in wanted:
            asked[payload["case_id"]] = asked.get(payload["case_id"], 0) + 1
    return sum(1 for n in asked.values() if n > 1)


def _figures(accepted: list) -> dict:
    _wait_until(lambda: _unrouted(accepted) == 0, 120, "every accepted case to be routed")
    time.sleep(2)  # let any late duplicate delivery land before counting
    routed = _routed_per_case(accepted)
    result = {"accepted": len(accepted), "lost_and_redriven": _redriven(accepted),
              "duplicated": sum(1 for n in routed.values() if n > 1),
              "never_routed": sum(1 for case_id in accepted if case_id not in routed)}
    print("reconciliation figures:", result)
    return result


def test_cases_lost_with_the_broker_are_routed_exactly_once(
        app, committed, redis_server, start_celery, worker_env):
    _, token = accounts.create_token(committed, "fault test", role="guide")
    client = app.test_client()
    accepted = [_post(client, token, n) for n in range(40)]
    assert None not in accepted
    # The relay hands every row to Redis and marks it published; then Redis dies and its
    # queue with it (no persistence), before any worker took a message.
    published = outbox.relay(committed, outbox.get_publisher())
    db.session.remove()
    assert published >= 40
    redis_server.process.kill()
    redis_server.process.wait(10)
    redis_server.start()
    # Nothing else wakes routing, so only reconciliation can bring these cases back; its
    # first run must already see all of them past the grace period, or a re-drive of some
    # would route the rest in the same batch and hide whether they were found.
    time.sleep(int(FAST_RECONCILE["RECONCILE_GRACE_S"]) + 1)
    worker_env.update(FAST_RECONCILE)
    start_celery("worker")
    start_celery("beat")
    result = _figures(accepted)
    assert result == {"accepted": 40, "lost_and_redriven": 40, "duplicated": 0,
                      "never_routed": 0}


def test_cases_survive_a_killed_worker_and_broker_mid_burst(
        app, committed, redis_server, start_celery, worker_env):
    _, token = accounts.create_token(committed, "fault test 2", role="guide")
    client = app.test_client()
    worker_env.update(FAST_RECONCILE)
    worker = start_celery("worker")
    start_celery("beat")
    accepted = []
    for n in range(80):
        if n == 25:
            worker.popen.kill()  # SIGKILL: its reserved, unacknowledged tasks hang in Redis
        if n == 40:
            redis_server.process.kill()
            redis_server.process.wait(10)
        if n == 55:
            redis_server.start()
        accepted.append(_post(client, token, n))
    assert None not in accepted
    start_celery("worker")
    result = _figures(accepted)
    assert (result["accepted"], result["duplicated"], result["never_routed"]) == (80, 0, 0)


def _refusing_port() -> int:
    with socket.socket() as sock:  # bound and closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_reply_failing_after_the_last_retry_is_marked_failed(
        app, committed, start_celery, worker_env):
    _, token = accounts.create_token(committed, "mail test", role="guide")
    case = cases.open_case(committed, SYSTEM, channel=Channel.EMAIL, subject="Svar som fastnar",
                           description="Hej", contact={"name": "Eva Ek",
                                                       "email": "eva.fail@example.se"})
    reply = cases.add_message(committed, SYSTEM, case.id, direction=Direction.OUTBOUND,
                              body="Här är ditt svar.")
    case_id, message_id = case.id, reply.id
    # Only the final attempt below is delivered: the relay has nothing left to publish.
    committed.execute(update(outbox.OutboxMessage).where(
        outbox.OutboxMessage.published_at.is_(None)).values(published_at=utcnow()))
    committed.commit()
    db.session.remove()
    worker_env.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(_refusing_port())})
    try:
        start_celery("worker")
        # The task's last try, as Celery delivers it after the twelfth retry.
        outbox.get_publisher().celery.send_task(
            "email.send_reply", args=[{"message_id": message_id}], retries=12)

        def failed() -> bool:
            try:
                return db.session.scalar(select(EmailMessage.failed_at).where(
                    EmailMessage.dedupe_key == f"reply:{message_id}")) is not None
            finally:
                db.session.remove()

        _wait_until(failed, 60, "the reply to be marked failed")
        messages = app.test_client().get(f"/api/v1/cases/{case_id}/messages",
                                         headers=bearer(token)).get_json()
        shown = next(m for m in messages["items"] if m["id"] == message_id)
        assert shown["channel_metadata"]["email"]["status"] == "failed"
        assert shown["channel_metadata"]["email"]["reason"].startswith("MailNotSent")
        live = figures.live_figures(committed, utcnow(), report_settings(app.config))
        assert live["failed_outgoing_today"] >= 1
        # Given up means given up: an earlier retry chain still running sends nothing.
        email = committed.scalar(select(EmailMessage).where(
            EmailMessage.dedupe_key == f"reply:{message_id}"))
        assert email.sent_at is None
    finally:
        db.session.remove()
        committed.execute(delete(EmailMessage).where(EmailMessage.case_id == case_id))
        committed.commit()
