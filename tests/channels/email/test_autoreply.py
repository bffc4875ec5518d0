"""Acknowledgement refusals (RFC 3834) and the exact headers of what we send."""

import re
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from citizencenter.channels.email.autoreply import (
    acknowledgement_refusal,
    build_acknowledgement,
    build_reply,
    tagged_subject,
)
from citizencenter.channels.email.message_ids import (
    case_reference_from_message_id,
    find_case_reference,
)
from citizencenter.channels.email.parsing import parse_message

SECRET = b"autoreply-test-secret"
OWN = {"medborgarcenter@lund.example", "Noreply@Lund.example"}
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CITIZEN_MAIL = (
    "From: Åsa Öberg <Asa.Oberg@Telia.example>\r\n"
    "To: medborgarcenter@lund.example\r\n"
    "Subject: Förskoleplats i Dalby\r\n"
    "Date: Sat, 28 Feb 2026 20:01:09 +0100\r\n"
    "Message-ID: <e3b7a1c2@telia.example>\r\n"
    "{extra}"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Hej! Finns det plats?\r\n")


def citizen_mail(extra: str = ""):
    return parse_message(CITIZEN_MAIL.format(extra=extra).encode())


def test_an_ordinary_citizen_mail_may_be_acknowledged():
    assert acknowledgement_refusal(citizen_mail(), OWN) is None


@pytest.mark.parametrize(("extra", "reason"), [
    ("Auto-Submitted: auto-replied\r\n", "auto-submitted"),
    ("Auto-Submitted: auto-generated\r\n", "auto-submitted"),
    ("Auto-Submitted: auto-notified; owner-email=\"x@y\"\r\n", "auto-submitted"),
    ("Precedence: bulk\r\n", "precedence"),
    ("Precedence: list\r\n", "precedence"),
    ("Precedence: Junk\r\n", "precedence"),
    ("X-Auto-Response-Suppress: All\r\n", "x-auto-response-suppress"),
    ("X-Auto-Response-Suppress: OOF, AutoReply\r\n", "x-auto-response-suppress"),
    ("X-Auto-Response-Suppress: DR\r\n", "x-auto-response-suppress"),
    ("List-Id: <foreningar.lists.example>\r\n", "list"),
    ("List-Unsubscribe: <mailto:leave@lists.example>\r\n", "list"),
    ("List-Post: NO\r\n", "list"),
])
def test_refusal_headers(extra, reason):
    assert acknowledgement_refusal(citizen_mail(extra), OWN) == reason


@pytest.mark.parametrize("extra", ["Auto-Submitted: no\r\n", "Auto-Submitted: No (human)\r\n",
                                   "Precedence: first-class\r\n", "X-Mailer: Outlook\r\n"])
def test_headers_that_do_not_refuse(extra):
    assert acknowledgement_refusal(citizen_mail(extra), OWN) is None


@pytest.mark.parametrize(("sender", "reason"), [
    ("MAILER-DAEMON@mx.telia.example", "mailer-daemon"),
    ("postmaster@telia.example", "mailer-daemon"),
    ("no-reply@skatteverket.example", "noreply"),
    ("noreply@bank.example", "noreply"),
    ("do_not_reply@bank.example", "noreply"),
    ("DoNotReply@bank.example", "noreply"),
    ("noreply+12345@service.example", "noreply"),
    ("medborgarcenter@lund.example", "own-address"),
    ("NOREPLY@lund.example", "own-address"),
    ("noreplyer.fan@example.se", None),
])
def test_refusal_senders(sender, reason):
    raw = CITIZEN_MAIL.format(extra="").replace("Åsa Öberg <Asa.Oberg@Telia.example>", sender)
    assert acknowledgement_refusal(parse_message(raw.encode()), OWN) == reason


def test_bounce_with_empty_return_path():
    raw = CITIZEN_MAIL.format(extra="Return-Path: <>\r\n").replace(
        "Åsa Öberg <Asa.Oberg@Telia.example>", "Mail Delivery System <MAILER-DAEMON@mx.example>")
    parsed = parse_message(raw.encode())
    assert parsed.is_bounce
    assert acknowledgement_refusal(parsed, OWN) == "bounce"


def test_missing_from():
    parsed = replace(citizen_mail(), from_address=None)
    assert acknowledgement_refusal(parsed, OWN) == "missing-from"


def reparse(message: EmailMessage) -> EmailMessage:
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def test_acknowledgement_headers_and_body():
    inbound = citizen_mail("References: <root@telia.example>\r\n")
    ack = build_acknowledgement(
        inbound, case_reference="MC-2026-000123",
        response_time_text="Vi svarar normalt inom en arbetsdag.",
        centre_address="medborgarcenter@lund.example", centre_name="Medborgarcenter Lund",
        secret=SECRET, domain="lund.example", now=NOW)
    raw = ack.as_bytes()
    assert raw.isascii() and b"\r\n" in raw
    back = reparse(ack)
    assert back["From"] == "Medborgarcenter Lund <medborgarcenter@lund.example>"
    assert back["To"] == "Åsa Öberg <asa.oberg@telia.example>"
    assert back["Subject"] == ("Vi har tagit emot ditt meddelande: Förskoleplats i Dalby "
                               "[MC-2026-000123]")
    assert back["Date"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert back["Auto-Submitted"] == "auto-replied"
    assert back["X-Auto-Response-Suppress"] == "All"
    assert back["In-Reply-To"] == "<e3b7a1c2@telia.example>"
    assert back["References"] == "<root@telia.example> <e3b7a1c2@telia.example>"
    assert back["Content-Language"] == "sv"
    assert back.get_content_type() == "text/plain"
    assert back.get_content_charset() == "utf-8"
    assert back["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert case_reference_from_message_id(back["Message-ID"], SECRET) == "MC-2026-000123"
    body = back.get_content()
    assert "ärendenummer MC-2026-000123" in body
    assert "Vi svarar normalt inom en arbetsdag." in body
    # Parsed back as inbound mail, our receipt is itself one never to acknowledge.
    assert acknowledgement_refusal(parse_message(raw), OWN) in ("auto-submitted", "own-address")
    assert parse_message(raw).auto_submitted_reason == "auto-submitted"


def test_acknowledgement_without_inbound_message_id_has_no_threading_headers():
    inbound = replace(citizen_mail(), message_id=None, references=[])
    back = reparse(build_acknowledgement(
        inbound, case_reference="MC-2026-000001", response_time_text="Svar inom 24 timmar.",
        centre_address="medborgarcenter@lund.example", centre_name="Medborgarcenter",
        secret=SECRET, domain="lund.example", now=NOW))
    assert back["In-Reply-To"] is None and back["References"] is None


def test_acknowledgement_does_not_repeat_the_tag():
    inbound = replace(citizen_mail(), subject="SV: Förskoleplats [MC-2026-000123]")
    back = reparse(build_acknowledgement(
        inbound, case_reference="MC-2026-000123", response_time_text="Svar inom 24 timmar.",
        centre_address="medborgarcenter@lund.example", centre_name="Medborgarcenter",
        secret=SECRET, domain="lund.example", now=NOW))
    assert back["Subject"] == "Vi har tagit emot ditt meddelande: Förskoleplats [MC-2026-000123]"


def test_acknowledgement_needs_a_sender():
    with pytest.raises(ValueError):
        build_acknowledgement(
            replace(citizen_mail(), from_address=None), case_reference="MC-2026-000001",
            response_time_text="", centre_address="medborgarcenter@lund.example",
            centre_name="Medborgarcenter", secret=SECRET, domain="lund.example", now=NOW)


def reply(**overrides):
    arguments = {
        "case_reference": "MC-2026-000123",
        "body": "Hej Åsa!\n\nDet finns plats på Dalby förskola från 1 april.\n",
        "original_subject": "Re: SV: Förskoleplats i Dalby [MC-2026-000123]",
        "citizen_address": "asa.oberg@telia.example", "citizen_name": "Åsa Öberg",
        "in_reply_to": "third@telia.example",
        "references": ["first@telia.example", "MC-2026-000123.abc.def@lund.example",
                       "second@telia.example"],
        "centre_address": "medborgarcenter@lund.example", "centre_name": "Medborgarcenter Lund",
        "secret": SECRET, "domain": "lund.example", "now": NOW}
    return build_reply(**{**arguments, **overrides})


def test_reply_headers():
    message = reply()
    back = reparse(message)
    assert back["From"] == "Medborgarcenter Lund <medborgarcenter@lund.example>"
    assert back["To"] == "Åsa Öberg <asa.oberg@telia.example>"
    assert back["Subject"] == "Re: Förskoleplats i Dalby [MC-2026-000123]"
    assert back["Date"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert back["In-Reply-To"] == "<third@telia.example>"
    assert back["References"] == ("<first@telia.example> <MC-2026-000123.abc.def@lund.example> "
                                  "<second@telia.example> <third@telia.example>")
    assert back["Auto-Submitted"] is None
    assert back.get_content_charset() == "utf-8"
    assert back["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert back.get_content().replace("\r\n", "\n") == (
        "Hej Åsa!\n\nDet finns plats på Dalby förskola från 1 april.\n")
    assert case_reference_from_message_id(back["Message-ID"], SECRET) == "MC-2026-000123"
    assert re.fullmatch(r"<MC-2026-000123\.[0-9a-f]+\.[0-9a-f]+@lund\.example>",
                        back["Message-ID"])
    assert message.as_bytes().isascii()


def test_reply_threads_back_to_the_case():
    back = reparse(reply())
    answer = (f"From: asa.oberg@telia.example\r\nSubject: Re: {back['Subject']}\r\n"
              f"Message-ID: <fourth@telia.example>\r\nIn-Reply-To: {back['Message-ID']}\r\n"
              f"References: {back['References']} {back['Message-ID']}\r\n\r\nTack!\r\n")
    hints = find_case_reference(parse_message(answer.encode()), SECRET)
    assert hints.resolve() == ("message_id", "MC-2026-000123")


@pytest.mark.parametrize(("original", "subject"), [
    ("Förskoleplats", "Re: Förskoleplats [MC-2026-000123]"),
    ("SV: Sv: RE: Förskoleplats", "Re: Förskoleplats [MC-2026-000123]"),
    ("[MC-2026-000123] Förskoleplats [MC-2026-000123]", "Re: Förskoleplats [MC-2026-000123]"),
    ("Fwd: Faktura", "Re: Fwd: Faktura [MC-2026-000123]"),
    ("", "Re: Ditt ärende [MC-2026-000123]"),
    (None, "Re: Ditt ärende [MC-2026-000123]"),
    ("Rad ett\r\n rad två", "Re: Rad ett rad två [MC-2026-000123]"),
])
def test_reply_subject(original, subject):
    assert reparse(reply(original_subject=original))["Subject"] == subject


def test_reply_without_parent_has_no_threading_headers():
    back = reparse(reply(in_reply_to=None, references=[]))
    assert back["In-Reply-To"] is None and back["References"] is None


def test_reply_with_parent_without_references():
    back = reparse(reply(references=[]))
    assert back["References"] == "<third@telia.example>"


def test_long_reference_chains_keep_root_and_newest():
    chain = [f"m{i}@telia.example" for i in range(30)]
    back = reparse(reply(references=chain, in_reply_to="m30@telia.example"))
    ids = back["References"].split()
    assert len(ids) == 20
    assert ids[0] == "<m0@telia.example>" and ids[-1] == "<m30@telia.example>"
    assert ids[1] == "<m12@telia.example>"


def test_reply_needs_an_aware_time():
    with pytest.raises(ValueError):
        reply(now=datetime(2026, 3, 2, 9, 30))


def test_tagged_subject():
    assert tagged_subject("Hej [MC-2026-000001]", "MC-2026-000002") == "Hej [MC-2026-000002]"
    assert tagged_subject(None, "MC-2026-000002") == "[MC-2026-000002]"
