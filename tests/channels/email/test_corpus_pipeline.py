"""The whole corpus through the MIME endpoint: cases, threading, duplicates, receipts sent."""

import json
from pathlib import Path

from sqlalchemy import select

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import Channel
from citizencenter.cases.models import Case, Message, ReferenceCounter
from citizencenter.channels.email.models import EmailAttachment, EmailKind, EmailMessage
from tests.channels.email.helpers import run_email_outbox
from tests.factories import bearer

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = {name: outcome for name, outcome in json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")).items() if not name.startswith("_")}
# The cases and the stored Message-ID the corpus's replies point at (see test_corpus.py).
EXISTING = {"MC-2026-000123": "karin.nilsson@outlook.example",
            "MC-2026-000077": "erik.johansson.lund@gmail.example",
            "MC-2026-000050": "anders.holm@icloud.example"}
STORED_ID = ("CAF9xk2Lq8vTn3Rw@mail.lund.example", "MC-2026-000050")


def _existing_cases(session) -> dict[str, Case]:
    counter = session.get(ReferenceCounter, 2026)
    if counter is None:
        session.add(ReferenceCounter(year=2026, last_value=1000))
    else:  # keep the numbers this test takes out of the counter's way
        counter.last_value = max(counter.last_value, 1000)
    session.flush()
    found = {}
    for reference, address in EXISTING.items():
        case = cases.add_case(session, SYSTEM, channel=Channel.EMAIL, subject="Tidigare ärende",
                              description="Tidigare", contact={"email": address})
        case.reference = reference
        found[reference] = case
    session.flush()
    session.add(EmailMessage(kind=EmailKind.INBOUND, dedupe_key=STORED_ID[0],
                             message_id=STORED_ID[0], case_id=found[STORED_ID[1]].id))
    session.commit()
    return found


def test_the_corpus_through_the_whole_pipeline(client, session, app, mail_token, smtp,
                                              monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_SIGNING_SECRETS", "corpus-test-secret")
    monkeypatch.setitem(app.config, "EMAIL_OWN_ADDRESSES",
                        "medborgarcenter@lund.example,noreply@lund.example")
    existing = _existing_cases(session)
    first_case_of: dict[str, str] = {}
    queued: list[tuple[str, dict]] = []

    for name in sorted(EXPECTED):
        expected = EXPECTED[name]
        response = client.post("/api/v1/integrations/email/mime",
                               data=(CORPUS / name).read_bytes(),
                               headers={**bearer(mail_token), "Content-Type": "message/rfc822"})
        body = response.get_json()
        assert response.status_code in (200, 201), (name, body)
        if "same_dedupe_as" in expected:
            assert (response.status_code, body["status"]) == (200, "duplicate"), name
            assert body["case_id"] == first_case_of[expected["same_dedupe_as"]], name
            continue
        assert (response.status_code, body["status"]) == (201, "stored"), name
        first_case_of[name] = body["case_id"]
        if expected["threading"]:
            source, reference = expected["threading"]
            assert body["case_id"] == str(existing[reference].id), name
            assert (body["threaded_by"], body["new_case"]) == (source, False), name
            assert body["acknowledgement"] == (expected["refusal"] or "follow-up"), name
        else:
            assert body["new_case"] is True and body["threaded_by"] is None, name
            assert body["acknowledgement"] == (expected["refusal"] or "queued"), name
            if expected["refusal"] is None:
                queued.append((name, body))

        message = session.get(Message, body["message_id"])
        for needle in expected["text_contains"]:
            assert needle in message.body, name
        files = session.scalars(select(EmailAttachment).where(
            EmailAttachment.id.in_([a["id"] for a in message.channel_metadata["attachments"]]))
            .order_by(EmailAttachment.id)).all()
        assert [(f.filename, f.rejected_reason) for f in files] == [
            (a["filename"], a["rejected_reason"]) for a in expected["attachments"]], name
        assert all((f.content is None) == (f.rejected_reason is not None) for f in files), name

    assert len(first_case_of) >= 30 and len(queued) >= 15
    results = run_email_outbox(session, app.config)
    senders = [EXPECTED[name]["from"] for name, _ in queued]
    assert results.count("sent") == len(set(senders))
    assert len(smtp.messages) == len(set(senders))
    by_recipient = {m.rcpt_tos[0]: m.message for m in smtp.messages}
    for name, body in queued:
        mail = by_recipient[EXPECTED[name]["from"]]
        assert mail["Auto-Submitted"] == "auto-replied"
        if first_case_of[name] != body["case_id"] or body["case_reference"] not in mail["Subject"]:
            continue  # the sender's one receipt of the day went to an earlier case
        dedupe = EXPECTED[name]["dedupe"]
        assert mail["In-Reply-To"] == (None if dedupe == "hash" else f"<{dedupe}>"), name
    for case in existing.values():
        session.refresh(case)
        assert case.first_response_at is None
