"""Telling a department about a forwarded case: an e-mail and a signed webhook.

Each channel is marked done on the forwarding row as soon as it succeeds, so a retry
after a failure repeats only what is missing. The webhook-id is the same on every
attempt, so the department can discard a repeat.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import keys, mailer
from citizencenter.accounts.models import Department
from citizencenter.audit import service as audit
from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.errors import InvalidInput
from citizencenter.integrations import signatures
from citizencenter.routing.models import CaseForwarding


class NotificationFailed(RuntimeError):
    pass


LEGACY_LABEL = b"citizencenter/department-webhooks"  # how secrets were sealed before HKDF


def _box(secret_keys: keys.SecretKeys) -> keys.SecretBox:
    return keys.SecretBox(secret_keys, legacy_label=LEGACY_LABEL)


def _url_for_audit(url: str | None) -> str | None:
    # Query strings and user info may carry credentials: the trail keeps the address only.
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def set_webhook(session: Session, slug: str, url: str | None,
                secret_keys: keys.SecretKeys, *, actor: str = "system") -> str | None:
    """Point a department's webhook at `url` (None removes it); returns the new secret."""
    department = session.scalar(select(Department).where(Department.slug == slug))
    if department is None:
        raise InvalidInput("department", f"Unknown department {slug!r}.")
    if url is not None and not url.startswith(("https://", "http://")):
        raise InvalidInput("url", "Give an http(s) URL.")
    secret = signatures.new_secret() if url else None
    audit.record(session, actor, "department.webhook_set", "department", department.id,
                 old={"url": _url_for_audit(department.webhook_url),
                      "secret": "set" if department.webhook_secret_encrypted else None},
                 new={"url": _url_for_audit(url), "secret": audit.fingerprint(secret)})
    department.webhook_url = url
    department.webhook_secret_encrypted = \
        _box(secret_keys).seal(secret) if secret else None
    session.commit()
    return secret


def reencrypt_webhook_secrets(session: Session, secret_keys: keys.SecretKeys) -> int:
    """Seal every department's webhook secret under the current key; returns how many."""
    sealed = _box(secret_keys).reseal_column(session, Department.webhook_secret_encrypted)
    session.commit()
    return sealed


def _payload(case: Case, forwarding: CaseForwarding, department: Department) -> bytes:
    # Identifiers and times only: the department reads the case itself through the API.
    return json.dumps({"type": "case.forwarded", "timestamp": utcnow().isoformat(), "data": {
        "case_id": str(case.id), "reference": case.reference, "department": department.slug,
        "forwarded_at": forwarding.forwarded_at.isoformat(),
        "department_due_at": forwarding.department_due_at.isoformat()
        if forwarding.department_due_at else None}}).encode()


def _email(case: Case, forwarding: CaseForwarding, department: Department,
           config: Mapping) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = config["MAIL_FROM"], department.email
    message["Subject"] = f"[{case.reference}] Ärende vidarebefordrat till {department.name}"
    due = forwarding.department_due_at
    # A protected identity's case: the subject stays in the system, for the permitted.
    subject = "(skyddad identitet)" if case.contact is not None \
        and case.contact.protection is not None else case.subject
    message.set_content(f"Ärendet {case.reference} har vidarebefordrats till er.\n"
                        f"Ämne: {subject}\n"
                        + (f"Svara senast: {due.strftime('%Y-%m-%d %H:%M UTC')}\n" if due
                           else ""))
    return message


def _post(url: str, secret: str, webhook_id: str, body: bytes, timeout_s: float) -> None:
    timestamp = int(time.time())
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures.sign(secret, webhook_id, timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise NotificationFailed(f"webhook: {type(exc).__name__}") from None


def notify_department(session: Session, forwarding_id: int, config: Mapping) -> bool:
    """Send what has not been sent yet; raise NotificationFailed so the task retries."""
    forwarding = session.get(CaseForwarding, forwarding_id)
    if forwarding is None:
        session.rollback()
        return False
    case, department = session.get(Case, forwarding.case_id), \
        session.get(Department, forwarding.department_id)
    errors = []
    if department.email and forwarding.email_sent_at is None:
        try:
            mailer.send(_email(case, forwarding, department, config), config)
            forwarding.email_sent_at = utcnow()
        except mailer.MailNotSent as exc:
            errors.append(f"email: {exc}")
    if department.webhook_url and forwarding.webhook_delivered_at is None:
        secret = _box(keys.secret_keys(config)).open(department.webhook_secret_encrypted)
        try:
            _post(department.webhook_url, secret, f"fwd_{forwarding.id}",
                  _payload(case, forwarding, department), config["DEPARTMENT_WEBHOOK_TIMEOUT_S"])
            forwarding.webhook_delivered_at = utcnow()
        except NotificationFailed as exc:
            errors.append(str(exc))
    forwarding.notify_attempts += 1
    forwarding.last_error = "; ".join(errors)[:500] or None
    session.commit()
    if errors:
        raise NotificationFailed(forwarding.last_error)
    return True
