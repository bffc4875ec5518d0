"""Reading what the e-mail channel keeps: attachments (as the case allows) and mailboxes."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases
from citizencenter.channels.email.models import EmailAttachment, MailboxState
from citizencenter.errors import AppError, NotFound


class AttachmentRefused(AppError):
    status, title, slug = 410, "Attachment refused", "attachment-refused"


def get_attachment(session: Session, actor: Principal, attachment_id: int) -> EmailAttachment:
    """An attachment with content, if the caller may see its case (404 otherwise).

    Downloading it is a read of the case, and audited as one.
    """
    case_id = session.scalar(select(EmailAttachment.case_id)
                             .where(EmailAttachment.id == attachment_id))
    if case_id is None:
        raise NotFound("No such attachment.")
    cases.shown_case(session, actor, case_id, "attachment", attachment_id=attachment_id)
    attachment = session.get(EmailAttachment, attachment_id)
    if attachment.content is None:
        raise AttachmentRefused(f"The attachment was not kept: {attachment.rejected_reason}.")
    session.commit()
    return attachment


def mailbox_states(session: Session) -> list[MailboxState]:
    return list(session.scalars(select(MailboxState).order_by(MailboxState.name)))
