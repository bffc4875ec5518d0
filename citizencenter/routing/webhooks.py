"""Department webhooks seen by an administrator: their last deliveries and a signed test
event sent the way a forwarded case's is (outbox, worker, the same signing and POST)."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import keys, outbox
from citizencenter.accounts.models import Department
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput, NotFound
from citizencenter.integrations.models import DepartmentWebhookTest
from citizencenter.routing import notifications
from citizencenter.routing.models import CaseForwarding

SCOPE = "integrations:write"
TEST_TOPIC = "routing.webhook_test"


@dataclass
class WebhookDeliveryView:
    kind: str  # "case.forwarded" or "test"
    at: datetime  # when it was asked for
    status: str  # "delivered", "failed" (retrying) or "pending"
    delivered_at: datetime | None
    attempts: int
    last_error: str | None


@dataclass
class DepartmentWebhook:
    slug: str
    name: str
    url: str | None
    deliveries: list[WebhookDeliveryView] = field(default_factory=list)


def _status(delivered_at, attempts, last_error) -> str:
    if delivered_at is not None:
        return "delivered"
    return "failed" if attempts and last_error else "pending"


def webhook_overview(session: Session, principal: Principal, *,
                     deliveries: int = 5) -> list[DepartmentWebhook]:
    """Every department with its webhook address (no secret) and its last deliveries."""
    principal.require(SCOPE)
    result = []
    for department in session.scalars(select(Department).order_by(Department.name)):
        rows = [WebhookDeliveryView("case.forwarded", f.forwarded_at,
                                    _status(f.webhook_delivered_at, f.notify_attempts,
                                            f.last_error),
                                    f.webhook_delivered_at, f.notify_attempts, f.last_error)
                for f in session.scalars(
                    select(CaseForwarding).where(CaseForwarding.department_id == department.id)
                    .order_by(CaseForwarding.forwarded_at.desc()).limit(deliveries))]
        rows += [WebhookDeliveryView("test", t.requested_at,
                                     _status(t.delivered_at, t.attempts, t.last_error),
                                     t.delivered_at, t.attempts, t.last_error)
                 for t in session.scalars(
                     select(DepartmentWebhookTest)
                     .where(DepartmentWebhookTest.department_id == department.id)
                     .order_by(DepartmentWebhookTest.id.desc()).limit(deliveries))]
        rows.sort(key=lambda r: r.at.replace(tzinfo=None), reverse=True)
        result.append(DepartmentWebhook(department.slug, department.name,
                                        notifications._url_for_audit(department.webhook_url),
                                        rows[:deliveries]))
    return result


def request_test(session: Session, principal: Principal, slug: str) -> DepartmentWebhookTest:
    """Queue a signed test event to the department's webhook (sent by a worker)."""
    principal.require(SCOPE)
    department = session.scalar(select(Department).where(Department.slug == slug))
    if department is None:
        raise NotFound(f"No department {slug!r}.")
    if not department.webhook_url:
        raise InvalidInput("department", "The department has no webhook.")
    test = DepartmentWebhookTest(department_id=department.id, requested_by=principal.actor)
    session.add(test)
    session.flush()
    outbox.enqueue(session, TEST_TOPIC, {"test_id": test.id})
    audit.record(session, principal.actor, "department.webhook_tested", "department",
                 department.id, new={"test_id": test.id})
    session.commit()
    return test


def _test_body(test: DepartmentWebhookTest, department: Department) -> bytes:
    return json.dumps({"type": "webhook.test", "timestamp": utcnow().isoformat(),
                       "data": {"department": department.slug, "test_id": test.id}}).encode()


def deliver_test(session: Session, test_id: int, config: Mapping) -> bool:
    """Post the test event, signed with the department's secret; raise to be retried."""
    test = session.get(DepartmentWebhookTest, test_id)
    if test is None or test.delivered_at is not None:
        session.rollback()
        return False
    department = session.get(Department, test.department_id)
    if not department.webhook_url:
        test.last_error = "no webhook"
        session.commit()
        return False
    secret = notifications._box(keys.secret_keys(config)).open(
        department.webhook_secret_encrypted)
    test.attempts += 1
    try:
        notifications._post(department.webhook_url, secret, f"test_{test.id}",
                            _test_body(test, department),
                            config["DEPARTMENT_WEBHOOK_TIMEOUT_S"])
    except notifications.NotificationFailed as exc:
        test.last_error = str(exc)[:500]
        session.commit()
        raise
    test.delivered_at, test.last_error = utcnow(), None
    session.commit()
    return True
