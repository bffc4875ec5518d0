"""Outbound mail on a case: the automatic acknowledgement and a guide's reply.

Acknowledgements follow RFC 3834: never answer machine-sent mail (which would start
mail loops with out-of-office replies, bounces and lists) and mark our own answer
as auto-replied. Replies thread by RFC 5322 §3.6.4 and carry a signed Message-ID.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from citizencenter.channels.email.message_ids import make_message_id
from citizencenter.channels.email.parsing import ParsedEmail

# 7-bit transfer encodings only: the stdlib then picks quoted-printable or base64.
OUTBOUND_POLICY = policy.SMTP.clone(cte_type="7bit")
MAX_REFERENCES = 20
_TAG = re.compile(r"\s*\[\s*MC-\d{4}-\d{6,}\s*\]\s*", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|sv|aw|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def acknowledgement_refusal(parsed: ParsedEmail, own_addresses: set[str]) -> str | None:
    """Say why no automatic acknowledgement may go to this sender, or None if one may."""
    if not parsed.from_address:
        return "missing-from"
    if parsed.from_address.lower() in {address.lower() for address in own_addresses}:
        return "own-address"
    return parsed.auto_submitted_reason


def tagged_subject(subject: str | None, case_reference: str, *, prefix: str = "") -> str:
    """Give the subject exactly one [case reference] tag, at its end."""
    text = " ".join(_TAG.sub(" ", subject or "").split())
    return " ".join(part for part in (prefix, text, f"[{case_reference}]") if part)


def _threading(message: EmailMessage, parent_id: str | None, references: Sequence[str]) -> None:
    if not parent_id:
        return
    chain = [mid for mid in dict.fromkeys([*references, parent_id]) if mid]
    if len(chain) > MAX_REFERENCES:
        # Keep the thread's root and the newest ids, as common mail clients do.
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1):]]
    message["In-Reply-To"] = f"<{parent_id}>"
    message["References"] = " ".join(f"<{mid}>" for mid in chain)


def _new_message(*, subject: str, sender: Address, recipient: Address, case_reference: str,
                 secret: bytes, domain: str, now: datetime | None) -> EmailMessage:
    sent_at = now or datetime.now(UTC)
    if sent_at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    message = EmailMessage(policy=OUTBOUND_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_message_id(case_reference, secret, domain)
    return message


def build_acknowledgement(parsed: ParsedEmail, *, case_reference: str, response_time_text: str,
                          centre_address: str, centre_name: str, secret: bytes, domain: str,
                          now: datetime | None = None) -> EmailMessage:
    """The Swedish receipt for an inbound message, with the case reference to quote."""
    if not parsed.from_address:
        raise ValueError("the inbound message has no sender to acknowledge")
    return build_acknowledgement_to(
        citizen_address=parsed.from_address, citizen_name=parsed.from_name,
        subject=parsed.subject, in_reply_to=parsed.message_id, references=parsed.references,
        case_reference=case_reference, response_time_text=response_time_text,
        centre_address=centre_address, centre_name=centre_name, secret=secret, domain=domain,
        now=now)


def build_acknowledgement_to(*, citizen_address: str, citizen_name: str | None,
                             subject: str | None, in_reply_to: str | None,
                             references: Sequence[str], case_reference: str,
                             response_time_text: str, centre_address: str, centre_name: str,
                             secret: bytes, domain: str, now: datetime | None = None,
                             citizen_link: str | None = None) -> EmailMessage:
    """The Swedish receipt for a case, threaded under in_reply_to when there is one
    (a web-form inquiry has no inbound message to answer), with the link to the citizen's
    own view of the case when there is one."""
    message = _new_message(
        subject=tagged_subject(_REPLY_PREFIX.sub("", subject or ""), case_reference,
                               prefix="Vi har tagit emot ditt meddelande:"),
        sender=Address(centre_name, addr_spec=centre_address),
        recipient=Address(citizen_name or "", addr_spec=citizen_address),
        case_reference=case_reference, secret=secret, domain=domain, now=now)
    message["Auto-Submitted"] = "auto-replied"
    # Asks Exchange not to answer our receipt with an out-of-office reply.
    message["X-Auto-Response-Suppress"] = "All"
    _threading(message, in_reply_to, references)
    message.set_content(acknowledgement_text(case_reference, response_time_text, centre_name,
                                             citizen_link))
    message["Content-Language"] = "sv"  # after set_content, which clears Content-* headers
    return message


def acknowledgement_text(case_reference: str, response_time_text: str, centre_name: str,
                         citizen_link: str | None = None) -> str:
    """The body of the acknowledgement, also shown to guides in the conversation (without
    the link: its token opens the citizen's page)."""
    follow = (f"Här kan du följa ditt ärende och skicka ett meddelande till oss:\n"
              f"{citizen_link}\n\n") if citizen_link else ""
    return ("Hej!\n\n"
            f"Tack för ditt meddelande till {centre_name}. Vi har tagit emot det och "
            f"registrerat det med ärendenummer {case_reference}.\n\n"
            f"{response_time_text.strip()}\n\n"
            f"{follow}"
            "Vill du komplettera ditt ärende svarar du på det här mejlet. Låt ärendenumret "
            "stå kvar i ämnesraden, så hamnar ditt svar rätt.\n\n"
            "Det här är ett automatiskt svar.\n\n"
            f"Med vänliga hälsningar\n{centre_name}\n")


def build_reply(*, case_reference: str, body: str, original_subject: str | None,
                citizen_address: str, citizen_name: str | None, in_reply_to: str | None,
                references: Sequence[str], centre_address: str, centre_name: str,
                secret: bytes, domain: str, now: datetime | None = None) -> EmailMessage:
    """A guide's plain-text reply to the citizen, threaded under their last message.

    in_reply_to is the last inbound Message-ID and references that message's
    References (both without angle brackets).
    """
    subject = _REPLY_PREFIX.sub("", _TAG.sub(" ", original_subject or "")).strip()
    message = _new_message(
        subject=tagged_subject(subject or "Ditt ärende", case_reference, prefix="Re:"),
        sender=Address(centre_name, addr_spec=centre_address),
        recipient=Address(citizen_name or "", addr_spec=citizen_address),
        case_reference=case_reference, secret=secret, domain=domain, now=now)
    _threading(message, in_reply_to, references)
    message.set_content(body.replace("\r\n", "\n"))
    message["Content-Language"] = "sv"
    return message
