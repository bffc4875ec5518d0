"""The e-mail channel's settings, read from the application config."""

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr

from citizencenter import keys


class MailboxConfigError(ValueError):
    """MAILBOXES or IMAP_* do not describe usable mailboxes."""


@dataclass(frozen=True)
class Mailbox:
    """One IMAP folder to poll. Processed mail is moved to processed_folder, or flagged
    \\Seen and $CitizenCenter when none is set; broken mail likewise to quarantine_folder
    or $Quarantined."""

    name: str
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    ssl: bool = True
    processed_folder: str | None = None
    quarantine_folder: str | None = None
    address: str | None = None  # the address this mailbox receives, one of our own


_FIELDS = set(Mailbox.__dataclass_fields__)


def mailboxes(config: Mapping) -> list[Mailbox]:
    """The configured mailboxes: MAILBOXES (JSON) or the single IMAP_* one, or none."""
    if config.get("MAILBOXES"):
        try:
            entries = json.loads(config["MAILBOXES"])
        except ValueError:
            raise MailboxConfigError("MAILBOXES is not valid JSON") from None
        if not isinstance(entries, list):
            raise MailboxConfigError("MAILBOXES must be a JSON list")
        found = []
        for entry in entries:
            if not isinstance(entry, dict) or set(entry) - _FIELDS or not {
                    "name", "host", "port", "user", "password"} <= set(entry):
                raise MailboxConfigError("each mailbox needs name, host, port, user, password "
                                         f"and only these fields: {sorted(_FIELDS)}")
            found.append(Mailbox(**entry))
        if len({m.name for m in found}) != len(found):
            raise MailboxConfigError("mailbox names must be unique")
        return found
    if config.get("IMAP_HOST"):
        return [Mailbox(name="default", host=config["IMAP_HOST"], port=config["IMAP_PORT"],
                        user=config["IMAP_USER"], password=config["IMAP_PASSWORD"],
                        folder=config["IMAP_FOLDER"], ssl=config["IMAP_SSL"])]
    return []


def centre_sender(config: Mapping) -> tuple[str, str]:
    """(display name, address) that our mail comes from, taken from MAIL_FROM."""
    name, address = parseaddr(config["MAIL_FROM"])
    return name or "Medborgarcenter", address.lower()


def own_addresses(config: Mapping) -> set[str]:
    """Addresses that are ours: never acknowledged, so we never answer ourselves."""
    found = {centre_sender(config)[1]}
    found |= {a.strip().lower() for a in config.get("EMAIL_OWN_ADDRESSES", "").split(",")
              if a.strip()}
    with contextlib.suppress(MailboxConfigError):
        found |= {m.address.lower() for m in mailboxes(config) if m.address}
    return found


def signing_secrets(config: Mapping) -> list[bytes]:
    """Secrets for outbound Message-IDs: the first signs, all verify."""
    secrets = [s.strip() for s in config.get("EMAIL_SIGNING_SECRETS", "").split(",")
               if s.strip()]
    if secrets:
        return [s.encode() for s in secrets]
    # The raw SECRET_KEY signed Message-IDs before keys were derived; citizens still
    # answer those mails, so it keeps verifying.
    return [*keys.verifying_keys(config, "message-ids"), config["SECRET_KEY"].encode()]
