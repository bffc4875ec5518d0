"""Re-processing quarantined mail once an administrator has removed what stopped it."""

from collections.abc import Mapping

from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.channels.email import inbound
from citizencenter.channels.email import quarantine as quarantine_service
from citizencenter.channels.email.models import QuarantinedEmail
from citizencenter.channels.email.parsing import EmailError, MessageTooLarge
from citizencenter.db import utcnow
from citizencenter.errors import Conflict


def _failure(error: Exception) -> tuple[str, str]:
    """The quarantine reason and detail for what stopped the message this time."""
    if isinstance(error, MessageTooLarge):
        return quarantine_service.TOO_LARGE, str(error)
    if isinstance(error, EmailError):
        return quarantine_service.UNPARSEABLE, str(error)
    return quarantine_service.PROCESSING_ERROR, type(error).__name__


def retry(session: Session, actor: Principal, quarantine_id: int,
          config: Mapping) -> inbound.Outcome:
    """Store a quarantined message now, or keep it with the new reason; never twice."""
    row = quarantine_service.get_quarantined(session, quarantine_id)
    if row.raw is None:
        raise Conflict("The message was too large to keep; it is still in its mailbox.")
    raw, mailbox = quarantine_service.kept_raw(row), row.mailbox
    try:
        # A message stored before (by an earlier retry) is recognised by its dedupe key.
        outcome = inbound.store(session, inbound.parse(raw, config), config, mailbox=mailbox)
    except Exception as exc:  # kept on the row for the next look, never a 500
        session.rollback()
        row = session.get(QuarantinedEmail, quarantine_id)
        reason, detail = _failure(exc)
        quarantine_service.record_failure(row, reason, detail, exc)
        quarantine_service.log_failure(row, exc)
        outcome = inbound.Outcome("quarantined", quarantine_id=row.id,
                                  quarantine_reason=reason)
    else:
        row.stored_at = row.stored_at or utcnow()
        row.stored_case_id = row.stored_case_id or outcome.case_id
    row.retried_at = utcnow()
    audit.record(session, actor.actor, "email.quarantine_retried", "quarantined_email",
                 row.id, outcome=outcome.status)
    session.commit()
    return outcome
