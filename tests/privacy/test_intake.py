"""Personnummer through every channel: stored, logged, queued, sent and posted only masked.

Intake on each channel (web form, walk-in, Meta, e-mail, the cases API, a guide's note and
reply, and the phone system's call events, Twilio callbacks and queue_log lines carrying what
a caller keyed in) with numbers in the text; then every column of every table, every log line, every
outbox payload and the Celery messages made of it, the department's webhook body and
every e-mail sent are searched for the numbers, in any form. The numbers are found again
only through the lookup and the audited reveal.
"""

import base64
import email
import hashlib
import hmac
import json
import logging
import re
import uuid
from datetime import timedelta
from email import policy
from email.utils import format_datetime
from urllib.parse import urlencode

import pytest
import redis
from sqlalchemy import func, select, text

from citizencenter import outbox
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email import outbound
from citizencenter.channels.phone import service as phone
from citizencenter.channels.social.models import SocialConversation
from citizencenter.db import Base, load_all, utcnow
from citizencenter.privacy.detection import identity_number
from citizencenter.privacy.models import IdentityNumber
from citizencenter.routing import notifications
from tests.channels.email.helpers import citizen_mail
from tests.channels.phone.helpers import post_events, post_queue_log
from tests.channels.social.conftest import (
    APP_SECRET,
    PAGE_TOKEN,
    VERIFY_TOKEN,
    delivery,
    post_signed,
    text_event,
)
from tests.conftest import recipients_and_text, running_smtp
from tests.factories import bearer, create_case
from tests.routing.conftest import WebhookReceiver


def number(date8: str, serial: str) -> str:
    """A valid number of that date and serial: the library's check digit, not ours."""
    return next(f"{date8}-{serial}{c}" for c in range(10)
                if identity_number(f"{date8}-{serial}{c}"))


WEBFORM = number("19811228", "987")  # in the subject and the message
WALKIN = number("19550101", "123")
SOCIAL = number("19701063", "239")  # samordningsnummer
MAIL = number("19900315", "456")
API = number("20010704", "321")
NOTE = number("19470812", "654")
REPLY = number("19660606", "777")
NAME = number("19580918", "246")  # in the web form's name field
ALL = (WEBFORM, WALKIN, SOCIAL, MAIL, API, NOTE, REPLY, NAME)
# Keyed in at the phone system's IVR: in a call event's raw payload, Twilio's Digits and a
# queue_log line. No case's text, so masked and not kept.
CALL_EVENT = number("19751111", "864")
TWILIO = number("19920229", "135")
QUEUE_LOG = number("19850505", "975")
CALLS = (CALL_EVENT, TWILIO, QUEUE_LOG)
CITIZEN = "6345123456789012"  # the Messenger sender
TEN = {n: n[2:].replace("-", "") for n in ALL + CALLS}  # the ten digits every form holds
TWILIO_TOKEN = "twilio-leak-test-token"
TWILIO_URL = "http://localhost/api/v1/integrations/calls/twilio?queue=kontaktcenter"


def short(n: str) -> str:
    return n[2:]  # YYMMDD-NNNC


def leaks(content: str) -> list[str]:
    """The numbers `content` holds in any form (separators and all)."""
    digits = re.sub(r"[-+ \u00a0]", "", content)
    return [n for n in ALL + CALLS if TEN[n] in digits]


def readable(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, memoryview)):
        value = bytes(value)
        parts = [value.decode("latin-1")]
        try:  # kept mail: its decoded parts too (base64 or quoted-printable hide digits)
            parsed = email.message_from_bytes(value, policy=policy.default)
            parts += [str(p.get_content()) for p in parsed.walk()
                      if not p.is_multipart()]
        except Exception:  # noqa: BLE001 - not mail: the bytes were read above
            pass
        return "\n".join(parts)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def stored_leaks(session) -> dict:
    load_all()
    found = {}
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            for column, value in zip(table.columns, row, strict=True):
                hits = leaks(readable(value))
                if hits:
                    found[f"{table.name}.{column.name}"] = hits
    return found


@pytest.fixture
def configured(app, monkeypatch):
    for name, value in {"META_APP_SECRET": APP_SECRET, "META_VERIFY_TOKEN": VERIFY_TOKEN,
                        "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                        "SMTP_HOST": "127.0.0.1", "SMTP_TIMEOUT_S": 5,
                        "MAIL_FROM": "Medborgarcenter Lund <medborgarcenter@lund.example>"
                        }.items():
        monkeypatch.setitem(app.config, name, value)
    return app


@pytest.fixture
def mail_token(session) -> str:
    from citizencenter.accounts import service as accounts

    return accounts.create_token(session, "test mail server", scopes=["mail:ingest"])[1]


@pytest.fixture
def limiter_clear(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    for key in client.scan_iter("citizencenter:webform:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("citizencenter:webform:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def receiver():
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def _intake(client, tokens, mail_token) -> dict:
    """Each channel takes in a text with a number; returns the case id per number."""
    ids = {}
    response = client.post("/api/v1/webform/inquiries", environ_base={
        "REMOTE_ADDR": "198.51.100.77"}, json={
        "category": "felanmalan", "subject": f"Fråga från {short(WEBFORM)}",
        "message": f"Mitt personnummer är {WEBFORM}. Lampan lyser inte.",
        "name": f"Per Holm {TEN[NAME]}", "email": "per.holm@example.se"})
    assert response.status_code == 201, response.get_json()
    ids[WEBFORM] = ids[NAME] = reference_to_id(client, tokens,
                                               response.get_json()["reference"])

    response = client.post("/api/v1/walk-ins", headers=bearer(tokens["guide"]), json={
        "service_point": "dalby", "visited_at": "2026-01-05T09:00:00+00:00",
        "subject": "Hjälp med e-tjänst", "resolved_at_first_contact": False,
        "description": f"Besökaren uppgav {TEN[WALKIN]} och ville ha hjälp."})
    assert response.status_code == 201, response.get_json()
    ids[WALKIN] = response.get_json()["id"]

    response = post_signed(client, delivery(text_event(
        CITIZEN, f"Hej! Jag har samordningsnummer {short(SOCIAL)}, vad gäller?")))
    assert response.status_code == 200, response.get_data(as_text=True)

    response = client.post("/api/v1/integrations/email/mime", headers={
        **bearer(mail_token), "Content-Type": "message/rfc822"}, data=citizen_mail(
        f"Bygglov för {short(MAIL)}", f"Hej!\nMitt personnummer: {MAIL}\nMvh Karin"))
    assert response.status_code in (200, 201, 202), response.get_json()
    ids[MAIL] = response.get_json()["case_id"]

    case = create_case(client, tokens["guide"], channel="phone",
                       description=f"Uppringaren {API.replace('-', ' ')} frågar om avgifter.")
    ids[API] = case["id"]
    for direction, n in (("internal", NOTE), ("outbound", REPLY)):
        response = client.post(f"/api/v1/cases/{ids[MAIL]}/messages",
                               headers=bearer(tokens["guide"]),
                               json={"direction": direction, "body": f"Gäller {n}."})
        assert response.status_code == 201, response.get_json()
    ids[NOTE] = ids[REPLY] = ids[MAIL]
    return ids


def _calls(client, session, phone_integration) -> None:
    """The phone system reports calls whose IVR took a personnummer, on each of its paths."""
    moment = utcnow() - timedelta(minutes=10)
    events = [{"event_id": f"leak-{kind}", "source": "leak-test", "type": kind,
               "occurred_at": (moment + timedelta(seconds=n * 30)).isoformat(),
               "sequence": n, "call_id": "leak-call-1", "queue": "kontaktcenter",
               "agent": "SIP/8007", "caller": "+46701112233", "metrics": {"wait_s": 30},
               "raw": {"ivr": {"personnummer": TEN[CALL_EVENT]}, "note": f"pnr {CALL_EVENT}"}}
              for n, kind in enumerate(("call.queued", "call.answered"))]
    response = post_events(client, phone_integration, events)
    assert response.status_code == 202, response.get_json()

    params = {"CallSid": "CAleak1", "AccountSid": "AC00", "From": "+46701112244",
              "To": "+46463550000", "Direction": "inbound", "CallStatus": "ringing",
              "Digits": TEN[TWILIO], "SequenceNumber": "0",
              "Timestamp": format_datetime(moment)}
    signed = TWILIO_URL + "".join(key + params[key] for key in sorted(params))
    signature = base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), signed.encode(),
                                          hashlib.sha1).digest()).decode()
    response = client.post(TWILIO_URL.removeprefix("http://localhost"), data=urlencode(params),
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 202, response.get_json()

    epoch = int(moment.timestamp())
    response = post_queue_log(client, phone_integration, [
        f"{epoch}|leak.2|kontaktcenter|NONE|ENTERQUEUE|ivr-{QUEUE_LOG}|0701112255|1",
        f"{epoch + 20}|leak.2|kontaktcenter|NONE|ABANDON|1|1|20"])
    assert response.status_code == 202, response.get_json()
    phone.apply_pending(session)


def reference_to_id(client, tokens, reference: str) -> str:
    from citizencenter import db

    return str(db.session.scalar(select(Case.id).where(Case.reference == reference)))


def _deliver_and_send(session, app, receiver, smtp_port: int, ids: dict) -> None:
    """What the workers would do: acknowledgements, the reply, the department told."""
    config = {**app.config, "SMTP_PORT": smtp_port}
    for row in session.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.topic.in_(("email.acknowledge", "email.send_reply")))):
        if row.topic == "email.acknowledge":
            outbound.send_acknowledgement(session, uuid.UUID(row.payload["case_id"]), config)
        else:
            outbound.send_reply(session, row.payload["message_id"], config)
    notifications.set_webhook(session, "stadsbyggnad", receiver.url, app.config["SECRET_KEY"])


def test_numbers_are_kept_only_sealed_and_found_again_by_lookup_and_reveal(
        client, session, app, configured, tokens, mail_token, limiter_clear, receiver,
        caplog, redis_server, phone_integration):
    caplog.set_level(logging.DEBUG)
    ids = _intake(client, tokens, mail_token)
    _calls(client, session, phone_integration)
    ids[SOCIAL] = str(session.scalar(select(SocialConversation.case_id).where(
        SocialConversation.citizen_id == CITIZEN)))

    with running_smtp(recipients_and_text) as inbox:
        _deliver_and_send(session, app, receiver, inbox.port, ids)
        forwarded = client.post(f"/api/v1/cases/{ids[WEBFORM]}/forward",
                                headers=bearer(tokens["guide"]),
                                json={"department": "stadsbyggnad",
                                      "note": f"Personen har {WEBFORM}."})
        assert forwarded.status_code == 201, forwarded.get_json()
        assert notifications.notify_department(
            session, forwarded.get_json()["id"],
            {**app.config, "SMTP_PORT": inbox.port}) is True
        sent = [mail for _, mail in inbox.messages]
    assert len(sent) >= 3  # two receipts, the reply, the department's notice
    assert all(leaks(mail) == [] for mail in sent), [leaks(m) for m in sent]
    assert any("19900315-XXXX" in mail for mail in sent)  # the reply's subject, masked
    [(_, body)] = receiver.requests
    assert leaks(body.decode()) == []

    # The Celery messages the relay makes of the outbox, read back from a real Redis.
    broker = redis_server.url.rsplit("/", 1)[0] + "/11"
    publisher = outbox.Publisher(broker)
    queue = redis.Redis.from_url(broker)
    queue.flushdb()
    try:
        assert outbox.relay(session, publisher) > 0
        queued = [item for key in queue.scan_iter() if queue.type(key) == b"list"
                  for item in queue.lrange(key, 0, -1)]
        assert queued
        for item in queued:
            message = json.loads(item)
            assert leaks(item.decode()) == []
            assert leaks(base64.b64decode(message["body"]).decode()) == []
    finally:
        queue.flushdb()
        queue.close()

    assert stored_leaks(session) == {}
    lines = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert lines and [line for line in lines if leaks(line)] == []

    # Masks where the numbers stood; the sealed numbers beside them.
    webform = session.get(Case, uuid.UUID(ids[WEBFORM]))
    assert webform.subject == f"Fråga från {WEBFORM[:8]}-XXXX"
    bodies = session.scalars(select(Message.body).where(
        Message.case_id == uuid.UUID(ids[SOCIAL]))).all()
    assert any("19701063-XXXX" in b for b in bodies)
    kept = session.scalar(select(func.count()).select_from(IdentityNumber).where(
        IdentityNumber.case_id.in_([uuid.UUID(i) for i in ids.values()])))
    assert kept >= len(ALL)

    # Lookup: any form of a number finds its cases, for those who may see them.
    for n in ALL:
        for form in (n, TEN[n], short(n)):
            response = client.post("/api/v1/cases/by-identity-number",
                                   headers=bearer(tokens["guide"]), json={"personnummer": form})
            assert response.status_code == 200, response.get_json()
            assert [c["id"] for c in response.get_json()["items"]] == [ids[n]], form
            assert leaks(response.get_data(as_text=True)) == []
    department = client.post("/api/v1/cases/by-identity-number",
                             headers=bearer(tokens["department"]), json={"personnummer": MAIL})
    assert department.get_json()["items"] == []  # not the department's case
    searched = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "identity_number.searched")).all()
    assert searched and all(leaks(json.dumps(e.data)) == [] for e in searched)

    # Reveal: the numbers of one case, with a reason, audited without them.
    response = client.post(f"/api/v1/cases/{ids[MAIL]}/identity-numbers/reveal",
                           headers=bearer(tokens["guide"]),
                           json={"reason": "Handläggning av bygglovsärendet"})
    assert response.status_code == 200, response.get_json()
    revealed = {item["number"] for item in response.get_json()["items"]}
    assert revealed == {n.replace("-", "") for n in (MAIL, NOTE, REPLY)}
    # Department staff reveal on their department's case.
    response = client.post(f"/api/v1/cases/{ids[WEBFORM]}/identity-numbers/reveal",
                           headers=bearer(tokens["department"]),
                           json={"reason": "Bygglovet ska handläggas"})
    assert response.status_code == 200, response.get_json()
    assert {i["number"] for i in response.get_json()["items"]} == {
        n.replace("-", "") for n in (WEBFORM, NAME)}
    [entry, *_] = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "identity_number.revealed",
        AuditEntry.entity_id == ids[MAIL])).all()
    anna = session.scalar(select(User.id).where(User.email == "anna.lindqvist@lund.example"))
    assert entry.actor == f"user:{anna}"
    assert entry.data["reason"] == "Handläggning av bygglovsärendet"
    assert entry.occurred_at is not None and entry.data["count"] == 3
    assert stored_leaks(session) == {}


def test_bad_searches_and_reveals_get_problems_and_change_nothing(client, session, tokens):
    case = create_case(client, tokens["guide"], description=f"Nummer {WALKIN}.")
    audited = session.scalar(select(func.count()).select_from(AuditEntry))
    reveal = f"/api/v1/cases/{case['id']}/identity-numbers/reveal"
    for url, token, body, status, field in (
            (reveal, "guide", {}, 422, "reason"),
            (reveal, "guide", {"reason": "   "}, 422, "reason"),
            (reveal, "guide", {"reason": "ok", "extra": 1}, 422, "extra"),
            (f"/api/v1/cases/{uuid.uuid4()}/identity-numbers/reveal", "guide",
             {"reason": "Handläggning"}, 404, None),
            (reveal, "department", {"reason": "Handläggning"}, 404, None),  # not theirs
            (reveal, "integration", {"reason": "Handläggning"}, 403, None),
            ("/api/v1/cases/by-identity-number", "guide", {"personnummer": "811228-9875"},
             422, "personnummer"),
            ("/api/v1/cases/by-identity-number", "guide", {}, 422, "personnummer")):
        response = client.post(url, headers=bearer(tokens[token]), json=body)
        assert response.status_code == status, (url, body, response.get_json())
        assert response.content_type == "application/problem+json"
        if field:
            assert field in [e["field"] for e in response.get_json()["errors"]]
        assert "811228-9875" not in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited
    # The number does not go into a URL: there is no GET lookup.
    assert client.get(f"/api/v1/cases?personnummer={WALKIN}",
                      headers=bearer(tokens["guide"])).status_code == 422


def test_rotating_keys_reseals_and_rehashes_the_numbers(client, session, app, tokens):
    from citizencenter import keys
    from citizencenter.privacy import service as privacy

    case = create_case(client, tokens["guide"], description=f"Nummer {API}.")
    row = session.scalar(select(IdentityNumber).where(
        IdentityNumber.case_id == uuid.UUID(case["id"])))
    sealed, hashed = row.sealed, row.lookup_hash
    new_keys = ["n" * 40 + "rotated-key", app.config["SECRET_KEY"]]
    try:
        privacy.use_keys(new_keys)
        assert privacy.reencrypt_numbers(session, new_keys) >= 1
        session.refresh(row)
        assert row.sealed != sealed and row.lookup_hash != hashed
        privacy.use_keys(new_keys[0])  # the old key gone: still opened and found
        response = client.post("/api/v1/cases/by-identity-number",
                               headers=bearer(tokens["guide"]), json={"personnummer": API})
        assert [c["id"] for c in response.get_json()["items"]] == [case["id"]]
        assert keys.SecretBox(new_keys[0], purpose="identity-numbers").open(
            row.sealed) == API.replace("-", "")
    finally:
        privacy.use_keys(keys.secret_keys(app.config))
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_quarantined_mail_is_kept_sealed_and_given_back_whole(client, session, app, tokens):
    from citizencenter.channels.email import quarantine
    from citizencenter.channels.email.models import QuarantinedEmail

    raw = citizen_mail(f"Fråga {MAIL}", f"Mitt personnummer: {short(MAIL)}")
    error = ValueError(f"cannot store line 'Mitt personnummer: {short(MAIL)}'")
    row = quarantine.quarantine(session, raw, size=len(raw), reason=quarantine.PROCESSING_ERROR,
                                detail="ValueError", error=error)
    session.commit()
    stored = session.get(QuarantinedEmail, row.id)
    assert MAIL.encode() not in stored.raw and TEN[MAIL].encode() not in stored.raw
    assert "19900315-XXXX" in stored.error_message
    assert stored_leaks(session) == {}
    response = client.get(f"/api/v1/email/quarantine/{row.id}/raw",
                          headers=bearer(tokens["admin"]))
    assert response.status_code == 200 and response.data == raw
    # A message kept before sealing is given back as it was, and sealed by rotate-keys.
    session.execute(QuarantinedEmail.__table__.update().where(
        QuarantinedEmail.id == row.id).values(raw=raw))
    session.commit()
    assert quarantine.kept_raw(session.get(QuarantinedEmail, row.id)) == raw
    assert quarantine.reencrypt_kept_mail(session, app.config["SECRET_KEY"]) >= 1
    session.refresh(stored)
    assert stored.raw != raw and quarantine.kept_raw(stored) == raw


def test_text_stored_before_masking_is_masked_by_the_command(client, session, app, tokens):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from citizencenter.cli import cli

    case = create_case(client, tokens["guide"], description="Inget nummer här.")
    case_id = uuid.UUID(case["id"])
    # As an older version stored them: in clear, past the masking of today's writes.
    session.execute(Case.__table__.update().where(Case.id == case_id).values(
        subject=f"Gammalt ärende {short(NOTE)}"))
    session.execute(Message.__table__.update().where(Message.case_id == case_id).values(
        body=f"Personnummer {NOTE}", channel_metadata={"headers": {"Subject": NOTE}}))
    session.commit()
    assert stored_leaks(session) != {}

    def run():
        result = CliRunner().invoke(cli, ["mask-identity-numbers"],
                                    obj=ScriptInfo(create_app=lambda: app))
        assert result.exit_code == 0, result.output
        return result.output

    assert "masked 1 subjects, 0 contact names and 1 messages; 2 numbers" in run()
    assert stored_leaks(session) == {}
    assert session.get(Case, case_id).subject == f"Gammalt ärende {NOTE[:8]}-XXXX"
    response = client.post("/api/v1/cases/by-identity-number",
                           headers=bearer(tokens["guide"]), json={"personnummer": NOTE})
    assert [c["id"] for c in response.get_json()["items"]] == [case["id"]]
    assert "masked 0 subjects, 0 contact names and 0 messages; 0 numbers" in run()
