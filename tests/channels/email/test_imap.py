"""Polling a real Dovecot IMAP server: UIDs, UIDVALIDITY, marking, quarantine."""

from dataclasses import replace

from sqlalchemy import func, select

from citizencenter.cases.models import Case, Message
from citizencenter.channels.email import polling
from citizencenter.channels.email.imap import PROCESSED_KEYWORD, QUARANTINED_KEYWORD
from citizencenter.channels.email.models import EmailMessage, MailboxState, QuarantinedEmail
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer


def poll(session, app, mailbox_config):
    return polling.poll_mailbox(session, mailbox_config, app.config)


def stored_count(session, mailbox_name: str) -> int:
    return session.scalar(select(func.count()).select_from(EmailMessage)
                          .where(EmailMessage.mailbox == mailbox_name))


def test_new_mail_becomes_cases_once_and_is_flagged(session, app, mailbox):
    first = mailbox.append(citizen_mail("Bygglov för altan", sender="a.berg@example.se"))
    second = mailbox.append(citizen_mail("Snöröjning", sender="b.holm@example.se"))

    result = poll(session, app, mailbox.config)
    assert (result.stored, result.duplicates, result.quarantined) == (2, 0, 0)
    subjects = set(session.scalars(select(Case.subject).join(
        EmailMessage, EmailMessage.case_id == Case.id)
        .where(EmailMessage.mailbox == mailbox.config.name)))
    assert subjects == {"Bygglov för altan", "Snöröjning"}
    for uid in (first, second):
        assert {"\\Seen", PROCESSED_KEYWORD} <= mailbox.flags(uid)
    state = session.get(MailboxState, mailbox.config.name)
    assert state.last_uid == second and state.uidvalidity and state.locked_until is None

    again = poll(session, app, mailbox.config)
    assert (again.stored, again.duplicates) == (0, 0)
    third = mailbox.append(citizen_mail("Parkering", sender="c.ek@example.se"))
    assert poll(session, app, mailbox.config).stored == 1
    assert session.get(MailboxState, mailbox.config.name).last_uid == third
    assert stored_count(session, mailbox.config.name) == 3


def test_a_lost_position_repeats_nothing(session, app, mailbox):
    mailbox.append(citizen_mail("Förskoleplats"))
    mailbox.append(citizen_mail("Förskoleplats", message_id=None, body="Utan Message-ID"))
    assert poll(session, app, mailbox.config).stored == 2
    # As after restoring an old backup: the position is gone, the mail is still there.
    session.get(MailboxState, mailbox.config.name).last_uid = 0
    session.commit()
    result = poll(session, app, mailbox.config)
    assert (result.stored, result.duplicates) == (0, 2)
    assert stored_count(session, mailbox.config.name) == 2


def test_a_new_uidvalidity_reads_the_folder_again_without_repeats(session, app, mailbox):
    config = replace(mailbox.config, folder="Kontakt")
    mailbox.recreate_inbox_folder("Kontakt")
    known = [citizen_mail("Vatten", sender="d@example.se"),
             citizen_mail("Avlopp", sender="e@example.se")]
    for raw in known:
        mailbox.append(raw, "Kontakt")
    assert poll(session, app, config).stored == 2
    old_validity = session.get(MailboxState, config.name).uidvalidity

    mailbox.recreate_inbox_folder("Kontakt")  # the server renumbers: new UIDVALIDITY
    for raw in [*known, citizen_mail("Ny fråga", sender="f@example.se")]:
        mailbox.append(raw, "Kontakt")
    result = poll(session, app, config)
    assert (result.stored, result.duplicates) == (1, 2)
    state = session.get(MailboxState, config.name)
    assert state.uidvalidity != old_validity and state.last_uid == 3


def test_broken_mail_is_quarantined_and_the_rest_goes_on(session, app, mailbox, client, tokens):
    good = mailbox.append(citizen_mail("Före", sender="g@example.se"))
    broken_raw = b"\r\nDetta \xe4r inget mejl, bara text utan rubriker.\r\n"
    broken = mailbox.append(broken_raw)
    after = mailbox.append(citizen_mail("Efter", sender="h@example.se"))

    result = poll(session, app, mailbox.config)
    assert result.outcomes == ["stored", "quarantined", "stored"]
    assert QUARANTINED_KEYWORD in mailbox.flags(broken)
    assert PROCESSED_KEYWORD in mailbox.flags(good) and PROCESSED_KEYWORD in mailbox.flags(after)
    row = session.scalar(select(QuarantinedEmail).where(
        QuarantinedEmail.mailbox == mailbox.config.name))
    assert (row.uid, row.reason) == (broken, "unparseable")

    listed = client.get("/api/v1/email/quarantine", headers=bearer(tokens["admin"])).get_json()
    entry = next(i for i in listed["items"] if i["id"] == row.id)
    assert entry["mailbox"] == mailbox.config.name and entry["raw_kept"] is True
    assert "@" not in (entry["detail"] or "")
    raw = client.get(f"/api/v1/email/quarantine/{row.id}/raw", headers=bearer(tokens["admin"]))
    assert raw.status_code == 200 and raw.mimetype == "message/rfc822"
    assert raw.data.replace(b"\r\n", b"\n") == broken_raw.replace(b"\r\n", b"\n")
    assert client.get("/api/v1/email/quarantine",
                      headers=bearer(tokens["guide"])).status_code == 403
    # Polled again, the quarantined message is not quarantined twice.
    session.get(MailboxState, mailbox.config.name).last_uid = 0
    session.commit()
    poll(session, app, mailbox.config)
    assert session.scalar(select(func.count()).select_from(QuarantinedEmail).where(
        QuarantinedEmail.mailbox == mailbox.config.name)) == 1


def test_too_large_mail_stays_in_the_mailbox_and_is_listed(session, app, mailbox,
                                                           monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_MAX_MESSAGE_BYTES", 200_000)
    big = mailbox.append(citizen_mail("Stora bilder", attachment=(
        "bilder.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 400_000)))
    small = mailbox.append(citizen_mail("Liten fråga", sender="i@example.se"))
    assert poll(session, app, mailbox.config).outcomes == ["quarantined", "stored"]
    row = session.scalar(select(QuarantinedEmail).where(
        QuarantinedEmail.mailbox == mailbox.config.name))
    assert row.reason == "too-large" and row.raw is None and row.size > 400_000
    assert big in mailbox.uids() and QUARANTINED_KEYWORD in mailbox.flags(big)
    assert PROCESSED_KEYWORD in mailbox.flags(small)


def test_processed_and_quarantined_mail_is_moved_to_folders(session, app, mailbox):
    config = replace(mailbox.config, processed_folder="Behandlat",
                     quarantine_folder="Karantan")
    mailbox.append(citizen_mail("Flyttas", sender="j@example.se"))
    mailbox.append(b"\r\n\r\ningen rubrik\r\n")
    assert poll(session, app, config).outcomes == ["stored", "quarantined"]
    assert mailbox.uids() == []
    assert len(mailbox.uids("Behandlat")) == 1 and len(mailbox.uids("Karantan")) == 1


def test_an_unreachable_server_is_recorded_and_retried_next_time(session, app, mailbox):
    config = replace(mailbox.config, password="fel")
    result = poll(session, app, config)
    assert result.error and result.stored == 0
    state = session.get(MailboxState, config.name)
    assert state.last_error and state.locked_until is None
    mailbox.append(citizen_mail("Efter felet", sender="k@example.se"))
    assert poll(session, app, mailbox.config).stored == 1


def test_message_bodies_and_headers_are_kept(session, app, mailbox):
    mailbox.append(citizen_mail("Intyg", body="Här är intyget.", attachment=(
        "intyg.pdf", "application/pdf", b"%PDF-1.4\nintyg\n%%EOF\n")))
    poll(session, app, mailbox.config)
    email = session.scalar(select(EmailMessage).where(
        EmailMessage.mailbox == mailbox.config.name))
    message = session.get(Message, email.conversation_message_id)
    assert message.body.strip() == "Här är intyget."
    assert message.channel.value == "email" and message.direction.value == "inbound"
    assert message.channel_metadata["headers"]["Subject"] == "Intyg"
    [attachment] = message.channel_metadata["attachments"]
    assert attachment["filename"] == "intyg.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["rejected_reason"] is None
