"""E-mail's one entry for views, tasks, the CLI and other domains.

Receiving (raw MIME or IMAP polling), sending acknowledgements and replies, the quarantine,
attachments and the mail still owed; parsing, sanitising and threading stay internal.
"""

from citizencenter.channels.email.access import get_attachment, mailbox_states
from citizencenter.channels.email.inbound import receive
from citizencenter.channels.email.outbound import (
    RETRY_BACKOFF_MAX_S,
    give_up,
    send_acknowledgement,
    send_reply,
)
from citizencenter.channels.email.polling import poll_all, poll_mailbox
from citizencenter.channels.email.quarantine import (
    get_quarantined,
    kept_raw,
    list_quarantined,
    reencrypt_kept_mail,
)
from citizencenter.channels.email.reprocessing import retry as retry_quarantined
from citizencenter.channels.email.settings import mailboxes
from citizencenter.channels.email.unsent import owed_acknowledgements, unsent_replies

__all__ = ["RETRY_BACKOFF_MAX_S", "get_attachment", "get_quarantined", "give_up", "kept_raw",
           "list_quarantined", "mailbox_states", "mailboxes", "owed_acknowledgements",
           "poll_all", "poll_mailbox", "receive", "reencrypt_kept_mail", "retry_quarantined",
           "send_acknowledgement", "send_reply", "unsent_replies"]
