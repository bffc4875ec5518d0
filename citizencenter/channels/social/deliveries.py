"""The social replies' delivery rows as the conversation shows them (cases.delivery)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.cases import delivery
from citizencenter.channels.social.models import DeliveryStatus, SocialDelivery

S = DeliveryStatus
_STATES = {S.PENDING: delivery.QUEUED, S.SENDING: delivery.QUEUED, S.SENT: delivery.SENT,
           S.FAILED: delivery.FAILED, S.UNCERTAIN: delivery.UNCERTAIN}


def deliveries_of(session: Session, message_ids: list[int]) -> dict[int, delivery.Delivery]:
    """The delivery of each of these messages that has a row, by message id."""
    rows = session.scalars(select(SocialDelivery).where(
        SocialDelivery.message_id.in_(message_ids)))
    return {row.message_id: delivery.Delivery(
        _STATES[row.status], "social",
        reason=row.last_error if row.status in (S.FAILED, S.UNCERTAIN) else None,
        sent_at=row.sent_at) for row in rows}


def provide_deliveries() -> None:
    """Let the conversation read the social replies' delivery (run at app start)."""
    delivery.provide(deliveries_of)
