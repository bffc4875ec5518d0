"""Reconciliation finds outbox work whose effect is missing and enqueues it again, once."""

from datetime import timedelta

from sqlalchemy import func, select, update

from citizencenter import outbox, reconciliation
from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel, Direction
from citizencenter.channels.email import service as outbound
from citizencenter.channels.email.models import EmailKind, EmailMessage
from citizencenter.channels.webform import service as webform
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from citizencenter.routing import service as routing
from citizencenter.routing.models import RoutingDecision
from tests.conftest import recipients_and_text, running_smtp

NO_GRACE = {"grace": timedelta(0), "look_back": timedelta(hours=1)}


def _publish_all(session, ago: timedelta = timedelta(seconds=1)) -> None:
    """As the relay does, with a broker that then loses every message."""
    session.execute(update(OutboxMessage).where(OutboxMessage.published_at.is_(None))
                    .values(published_at=utcnow() - ago))
    session.commit()


def _pending(session, topic: str) -> list[dict]:
    return list(session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.topic == topic, OutboxMessage.published_at.is_(None))))


def test_a_lost_routing_message_is_redriven_once(session, app):
    case = cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Förlorad",
                           description="Ingen dirigerade mig.")
    # Still unpublished: the relay will send it, reconciliation leaves it alone.
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert _pending(session, "case.created").count({"case_id": str(case.id)}) == 1
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert {"case_id": str(case.id)} in _pending(session, "case.created")
    # The re-drive is itself in flight: a second run adds nothing.
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert _pending(session, "case.created").count({"case_id": str(case.id)}) == 1
    # The original message arrives after all, then the re-drive: routed once.
    assert routing.route_case(session, case.id) is True
    assert routing.route_case(session, case.id) is False
    assert session.scalar(select(func.count()).select_from(RoutingDecision).where(
        RoutingDecision.case_id == case.id, RoutingDecision.kind == "routed")) == 1
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert {"case_id": str(case.id)} not in _pending(session, "case.created")


def test_the_grace_period_and_look_back_bound_what_is_sought(session, app):
    case = cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Ny",
                           description="Just inkommen.")
    old = cases.open_case(session, SYSTEM, channel=Channel.PHONE, subject="Gammal",
                          description="För länge sedan.",
                          received_at=utcnow() - timedelta(days=3))
    _publish_all(session, ago=timedelta(minutes=5))
    reconciliation.reconcile(session, app.config, grace=timedelta(minutes=1),
                             look_back=timedelta(days=1))
    pending = _pending(session, "case.created")
    assert {"case_id": str(case.id)} not in pending  # received within the grace period
    assert {"case_id": str(old.id)} not in pending  # before the look-back


def test_a_lost_receipt_and_reply_are_sent_once_after_reconciliation(session, app):
    case = webform.submit_inquiry(session, category="bygglov", subject="Plank",
                                  message="Behövs bygglov?", name="Karin Ek",
                                  email="karin.reconcile@example.se")
    reply = cases.add_message(session, SYSTEM, case.id, direction=Direction.OUTBOUND,
                              body="Nej, inte under 1,8 meter.")
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert {"case_id": str(case.id)} in _pending(session, "email.acknowledge")
    # A web-form case's reply goes out on the e-mail channel only when the case is e-mail.
    assert {"message_id": reply.id} not in _pending(session, "email.send_reply")
    with running_smtp(recipients_and_text) as smtp:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}
        assert outbound.send_acknowledgement(session, case.id, config) == "sent"
        assert outbound.send_acknowledgement(session, case.id, config) == "already-sent"
    assert len(smtp.messages) == 1
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert {"case_id": str(case.id)} not in _pending(session, "email.acknowledge")


def test_an_email_reply_never_sent_is_redriven_but_not_one_given_up(session, app):
    case = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Svar saknas",
                           description="Hej", contact={"name": "Per Ek",
                                                       "email": "per.reconcile@example.se"})
    lost = cases.add_message(session, SYSTEM, case.id, direction=Direction.OUTBOUND,
                             body="Svar ett")
    given_up = cases.add_message(session, SYSTEM, case.id, direction=Direction.OUTBOUND,
                                 body="Svar två")
    assert outbound.give_up(session, EmailKind.REPLY, given_up.id, "MailNotSent: refused",
                            app.config) == "failed"
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    pending = _pending(session, "email.send_reply")
    assert {"message_id": lost.id} in pending
    assert {"message_id": given_up.id} not in pending
    email = session.scalar(select(EmailMessage).where(
        EmailMessage.dedupe_key == f"reply:{given_up.id}"))
    assert email.failed_at is not None and email.sent_at is None
    session.refresh(given_up)
    assert given_up.channel_metadata["email"]["status"] == "failed"
    assert given_up.channel_metadata["email"]["reason"] == "MailNotSent: refused"


def test_unapplied_call_events_wake_one_worker(session, app):
    from citizencenter.channels.phone import service as phone

    phone.ingest(session, [{"source": "test-reconcile", "event_id": "e1",
                            "type": "call.queued", "occurred_at": utcnow(), "sequence": 1,
                            "call_id": "rc.1", "queue": "kontaktcenter", "caller": None,
                            "metrics": {}, "raw": None}])
    _publish_all(session)
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert len(_pending(session, "calls.events_received")) == 1
    reconciliation.reconcile(session, app.config, **NO_GRACE)
    assert len(_pending(session, "calls.events_received")) == 1
    assert outbox.TOPIC_TASKS["calls.events_received"] == "phone.apply_call_events"
