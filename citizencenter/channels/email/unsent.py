"""Outgoing mail owed but never sent: what reconciliation hands to the sending tasks again.

A receipt or reply whose task was lost (with the broker's data, say) has no record, or a
record never tried since its last retry was due. Mail being sent (sending_at), sent or
given up (failed_at) is never listed: sending stays at most once.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import Channel, Direction
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.models import AcknowledgedSender, EmailKind, EmailMessage
from citizencenter.channels.email.settings import own_addresses
from citizencenter.channels.webform import service as webform
from citizencenter.contacts.models import Contact

# What send_reply records on a message it could not send and never will.
NOT_SENDABLE = ("no-address", "failed")


def _stalled(email, stalled_before: datetime):
    """A record neither sent, being sent, nor given up, and not tried for a while."""
    return and_(email.sent_at.is_(None), email.sending_at.is_(None), email.failed_at.is_(None),
                func.coalesce(email.attempted_at, email.created_at) < stalled_before)


def owed_acknowledgements(session: Session, since: datetime, before: datetime,
                          stalled_before: datetime, config: Mapping, limit: int
                          ) -> list[uuid.UUID]:
    """New e-mail and web-form cases received in [since, before) whose receipt never went."""
    ack = aliased(EmailMessage)
    inbound = aliased(EmailMessage)
    rows = session.execute(
        select(Case.id, Case.channel, Case.received_at, Contact.email)
        .join(Contact, Case.contact_id == Contact.id)
        .outerjoin(ack, and_(ack.case_id == Case.id, ack.kind == EmailKind.ACKNOWLEDGEMENT))
        .where(Case.received_at >= since, Case.received_at < before,
               Case.channel.in_([Channel.EMAIL, Channel.WEBFORM]), Contact.email.is_not(None),
               or_(ack.id.is_(None), _stalled(ack, stalled_before)),
               # An e-mail case is owed a receipt only when the mail that opened it was.
               or_(Case.channel == Channel.WEBFORM, exists().where(
                   inbound.case_id == Case.id, inbound.kind == EmailKind.INBOUND,
                   inbound.ack_refusal.is_(None))))
        .order_by(Case.received_at).limit(limit)).all()
    # A web-form case is owed one only when the public form opened it, not the API.
    from_form = set(session.scalars(select(AuditEntry.entity_id).where(
        AuditEntry.entity_type == "case", AuditEntry.action == "case.created",
        AuditEntry.actor == webform.WEBFORM.actor,
        AuditEntry.entity_id.in_([str(row.id) for row in rows if row.channel == Channel.WEBFORM]))))
    rows = [row for row in rows if row.channel != Channel.WEBFORM or str(row.id) in from_form]
    own = own_addresses(config)
    addresses = {row.email.lower() for row in rows}
    last_sent = dict(session.execute(select(AcknowledgedSender.address,
                                            AcknowledgedSender.last_sent_at)
                                     .where(AcknowledgedSender.address.in_(addresses))).all())
    interval = timedelta(hours=config["EMAIL_ACK_INTERVAL_H"])
    owed = []
    for case_id, _, received_at, email in rows:
        sent = last_sent.get(email.lower())
        # One receipt per sender and interval: a receipt near this case covered it.
        if email.lower() in own or (sent is not None and sent > received_at - interval):
            continue
        owed.append(case_id)
    return owed


def unsent_replies(session: Session, since: datetime, before: datetime,
                   stalled_before: datetime, limit: int) -> list[int]:
    """Guides' replies on e-mail cases written in [since, before) and never sent."""
    rows = session.execute(
        select(Message.id, Message.channel_metadata)
        .outerjoin(EmailMessage, EmailMessage.conversation_message_id == Message.id)
        .where(Message.direction == Direction.OUTBOUND, Message.channel == Channel.EMAIL,
               Message.created_at >= since, Message.created_at < before,
               or_(EmailMessage.id.is_(None), and_(EmailMessage.kind == EmailKind.REPLY,
                                                   _stalled(EmailMessage, stalled_before))))
        .order_by(Message.created_at).limit(limit)).all()
    return [message_id for message_id, metadata in rows
            if (metadata or {}).get("email", {}).get("status") not in NOT_SENDABLE
            and not (metadata or {}).get("auto")]
