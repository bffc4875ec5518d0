"""Feedback after resolution: invitation, the one-time page, the answers, the API."""

import re
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from citizencenter.cases.models import Case
from citizencenter.db import utcnow
from citizencenter.feedback import links, service, sms
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.mailer import MailNotSent
from citizencenter.outbox import OutboxMessage
from tests.conftest import _free_port
from tests.factories import bearer, create_case

BASE = "https://medborgarcenter.example"


def _settings(app, ttl=timedelta(days=14)):
    return service.LinkSettings(app.config["SECRET_KEY"], ttl, BASE)


def _mail_config(app, inbox):
    return {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port}


def _resolve(client, token, case):
    for _ in range(5):  # a worker may route the case between our read and our write
        etag = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(token)).headers["ETag"]
        response = client.patch(f"/api/v1/cases/{case['id']}", json={"status": "resolved"},
                                headers={**bearer(token), "If-Match": etag})
        if response.status_code != 412:
            break
    assert response.status_code == 200, response.get_json()


def _invite(client, session, app, tokens, inbox, **contact):
    case = create_case(client, tokens["guide"], contact=contact or {
        "name": "Karin Ek", "email": "karin.ek@example.se"})
    _resolve(client, tokens["guide"], case)
    request = service.request_feedback(session, uuid.UUID(case["id"]), _settings(app),
                                       _mail_config(app, inbox), sms.MemorySms())
    return case, request


def _link_path(message) -> str:
    body = message.get_content()
    return re.search(re.escape(BASE) + r"(/feedback/\S+)", body).group(1)


def test_resolving_a_case_asks_for_feedback_in_the_same_transaction(client, session, tokens):
    case = create_case(client, tokens["guide"])
    _resolve(client, tokens["guide"], case)
    topics = session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.topic == "case.resolved")).all()
    assert {"case_id": case["id"]} in topics


def test_the_invitation_link_is_opaque_and_works_once(client, session, app, tokens,
                                                      smtp_inbox):
    case, request = _invite(client, session, app, tokens, smtp_inbox)
    assert request.via == "email" and request.sent_at is not None
    [message] = smtp_inbox.messages
    assert message["To"] == "karin.ek@example.se" and case["reference"] in message["Subject"]
    path = _link_path(message)
    assert "karin" not in path.lower() and "example.se" not in path and case["id"] not in path

    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Hur blev du bemött?" in html and 'name="courtesy"' in html and "http" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    answered = client.post(path, data={"courtesy": "4", "ease": "5", "clarity": "3"})
    assert answered.status_code == 200 and "Tack" in answered.get_data(as_text=True)
    stored = session.scalar(select(FeedbackResponse).where(
        FeedbackResponse.case_id == uuid.UUID(case["id"])))
    assert (stored.courtesy, stored.ease, stored.clarity, stored.channel) == (4, 5, 3, "email")

    for again in (client.post(path, data={"courtesy": "1", "ease": "1", "clarity": "1"}),
                  client.get(path)):
        assert again.status_code == 410 and "redan svarat" in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(FeedbackResponse)) == 1


def test_a_second_request_for_the_same_case_sends_nothing(client, session, app, tokens,
                                                          smtp_inbox):
    case, first = _invite(client, session, app, tokens, smtp_inbox)
    again = service.request_feedback(session, uuid.UUID(case["id"]), _settings(app),
                                     _mail_config(app, smtp_inbox), sms.MemorySms())
    assert again.id == first.id and len(smtp_inbox.messages) == 1


def test_a_failed_send_keeps_the_request_and_the_retry_sends_the_same_link(
        client, session, app, tokens, smtp_inbox):
    case = create_case(client, tokens["guide"])
    _resolve(client, tokens["guide"], case)
    closed = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": _free_port()}
    with pytest.raises(MailNotSent):
        service.request_feedback(session, uuid.UUID(case["id"]), _settings(app), closed,
                                 sms.MemorySms())
    stored = session.scalar(select(FeedbackRequest).where(
        FeedbackRequest.case_id == uuid.UUID(case["id"])))
    assert stored.sent_at is None and smtp_inbox.messages == []
    sent = service.request_feedback(session, uuid.UUID(case["id"]), _settings(app),
                                    _mail_config(app, smtp_inbox), sms.MemorySms())
    assert sent.id == stored.id and sent.sent_at is not None
    token = _link_path(smtp_inbox.messages[0]).removeprefix("/feedback/")
    assert links.nonce_of(app.config["SECRET_KEY"], token, 60) == stored.nonce


def test_open_cases_are_not_asked(client, session, app, tokens, smtp_inbox):
    case = create_case(client, tokens["guide"])
    assert service.request_feedback(session, uuid.UUID(case["id"]), _settings(app),
                                    _mail_config(app, smtp_inbox), sms.MemorySms()) is None
    assert smtp_inbox.messages == []


def test_citizens_without_email_get_a_text_through_the_adapter(client, session, app, tokens,
                                                               smtp_inbox):
    texts = sms.MemorySms()
    case = create_case(client, tokens["guide"], channel="phone",
                       contact={"name": "Per Holm", "phone": "070-765 43 21"})
    _resolve(client, tokens["guide"], case)
    request = service.request_feedback(session, uuid.UUID(case["id"]), _settings(app),
                                       _mail_config(app, smtp_inbox), texts)
    assert request.via == "sms" and smtp_inbox.messages == []
    [(to, text)] = texts.sent
    assert to == "+46707654321" and "/feedback/" in text and "Per" not in text
    assert service.request_feedback(session, uuid.UUID(create_case(
        client, tokens["guide"], contact={"phone": "070-111 22 33"})["id"]), _settings(app),
        _mail_config(app, smtp_inbox), sms.NoSms()) is None


@pytest.mark.parametrize(("form", "field"), [
    ({"courtesy": "7", "ease": "5", "clarity": "3"}, "Hur blev du bemött?"),
    ({"courtesy": "3", "clarity": "3"}, "Hur lätt"),
    ({"courtesy": "3", "ease": "x", "clarity": "3"}, "Hur lätt"),
    ({"courtesy": "3", "ease": "3", "clarity": "3", "name": "Karin"}, "name"),
])
def test_bad_answers_are_refused_and_the_link_stays_usable(client, session, app, tokens,
                                                           smtp_inbox, form, field):
    _invite(client, session, app, tokens, smtp_inbox)
    path = _link_path(smtp_inbox.messages[0])
    refused = client.post(path, data=form)
    assert refused.status_code == 422
    assert field in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(FeedbackResponse)) == 0
    assert client.post(path, data={"courtesy": "5", "ease": "5", "clarity": "5"}
                       ).status_code == 200


def test_expired_and_forged_links_are_refused(client, session, app, tokens, smtp_inbox):
    _, request = _invite(client, session, app, tokens, smtp_inbox)
    path = _link_path(smtp_inbox.messages[0])
    request.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    expired = client.get(path)
    assert expired.status_code == 410 and "gått ut" in expired.get_data(as_text=True)
    assert client.post(path, data={"courtesy": "5", "ease": "5", "clarity": "5"}
                       ).status_code == 410
    forged = links.sign("another-secret", request.nonce)
    assert client.get(f"/feedback/{forged}").status_code == 400
    assert client.get("/feedback/not-a-token").status_code == 400
    old = links.sign(app.config["SECRET_KEY"], request.nonce)
    time.sleep(2.1)  # signatures carry whole seconds
    with pytest.raises(links.LinkGone):
        links.nonce_of(app.config["SECRET_KEY"], old, max_age_s=1)
    assert session.scalar(select(func.count()).select_from(FeedbackResponse)) == 0


def test_supervisors_read_the_answers(client, session, app, tokens, smtp_inbox):
    case, _ = _invite(client, session, app, tokens, smtp_inbox)
    client.post(_link_path(smtp_inbox.messages[0]),
                data={"courtesy": "2", "ease": "3", "clarity": "4"})
    listed = client.get("/api/v1/feedback?channel=email", headers=bearer(tokens["supervisor"]))
    assert listed.status_code == 200
    [item] = listed.get_json()["items"]
    assert item["case_id"] == case["id"] and item["courtesy"] == 2
    assert "email" not in {k for k in item if k != "channel"}
    assert client.get("/api/v1/feedback", headers=bearer(tokens["guide"])).status_code == 403
    bad = client.get("/api/v1/feedback?channel=fax", headers=bearer(tokens["supervisor"]))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "channel"


@pytest.mark.worker
def test_a_worker_sends_the_invitation_after_resolution(app, committed, tokens_committed,
                                                        start_celery, smtp_inbox):
    client = app.test_client()
    start_celery("worker")
    case = create_case(client, tokens_committed)
    _resolve(client, tokens_committed, case)
    deadline = time.monotonic() + 30
    while not smtp_inbox.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    [message] = smtp_inbox.messages
    path = _link_path(message)
    assert client.post(path, data={"courtesy": "5", "ease": "4", "clarity": "5"}
                       ).status_code == 200
    request = committed.scalar(select(FeedbackRequest).where(
        FeedbackRequest.case_id == uuid.UUID(case["id"])))
    # The worker records the send just after the mail server took it: the link above may
    # have been followed first (it works from the start), so wait for that record.
    deadline = time.monotonic() + 30
    while True:
        committed.refresh(request)
        sent_at, via, used_at = request.sent_at, request.via, request.used_at
        committed.rollback()  # on SQLite an open read would hold the worker's write back
        if sent_at is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert via == "email" and used_at is not None
    assert committed.get(Case, uuid.UUID(case["id"])).status == "resolved"


@pytest.fixture
def tokens_committed(committed):
    from citizencenter.accounts import service as accounts

    return accounts.create_token(committed, "feedback worker test",
                                 user_email="anna.lindqvist@lund.example")[1]
