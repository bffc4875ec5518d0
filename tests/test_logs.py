"""Log lines: one JSON object per line, a request id that follows a case from its request
into its Celery tasks, and no personal data in any line, whoever logged it."""

import io
import json
import logging
import time
import uuid

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from citizencenter import db, log_context, logs, outbox
from citizencenter.accounts import service as accounts
from citizencenter.cases.models import Case
from citizencenter.outbox import OutboxMessage
from citizencenter.privacy.detection import identity_number
from tests.conftest import recipients_and_text, running_smtp
from tests.factories import bearer

NUMBER = next(f"19811228-987{c}" for c in range(10) if identity_number(f"19811228-987{c}"))
NAME = "Ingegerd Wallinder"
EMAIL = "ingegerd.wallinder@example.se"
PHONE = "+46701239876"  # no other test's caller: the flow commits its contact
# Every form a line might hold them in.
SECRETS = (NAME, "Wallinder", EMAIL, "ingegerd.wallinder", PHONE, "0701239876",
           "070-123 98 76", "701239876", NUMBER, NUMBER.replace("-", ""), NUMBER[2:],
           NUMBER[2:].replace("-", ""))


def leaks(line: str) -> list[str]:
    return [secret for secret in SECRETS if secret in line]


@pytest.fixture
def captured():
    """The root logger's lines as this process's JSON handler writes them."""
    root = logging.getLogger()
    level, stream = root.level, io.StringIO()
    handler = logs.configure("json", logging.DEBUG, stream)
    # The test's own SMTP server (aiosmtpd) logs each line it receives, names and all: it
    # stands in for the municipality's mail server, not for this system.
    smtp_server = logging.getLogger("mail.log")
    smtp_level = smtp_server.level
    smtp_server.setLevel(logging.WARNING)
    yield stream
    logging.captureWarnings(False)
    smtp_server.setLevel(smtp_level)
    root.removeHandler(handler)
    root.setLevel(level)


def json_lines(text: str) -> list[dict]:
    """Every line parsed; a line that is not one JSON object fails the test."""
    parsed = []
    for line in text.splitlines():
        if line.strip():
            try:
                parsed.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"not a JSON line: {line!r}") from None
    return parsed


def test_a_line_is_one_json_object_with_personal_data_masked(captured):
    log = logging.getLogger("citizencenter.test")
    log.warning("contact %s <%s>, %s, pnr %s", NAME.split()[0], EMAIL, PHONE, NUMBER)
    try:
        raise ValueError(f"cannot store 'Ring mig på 070-123 98 76, {NUMBER[2:]}'")
    except ValueError:
        log.exception("store failed for %s", EMAIL)
    log.info("a %s b", {"to": EMAIL, "digits": NUMBER.replace("-", "")})
    log.info("case MC-2026-000123 at 2026-12-02T10:00:00+00:00, 12345678 rows, 3f2a1b4c-1234")

    first, failed, mapping, plain = json_lines(captured.getvalue())
    assert first["level"] == "WARNING" and first["logger"] == "citizencenter.test"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert first["message"] == (
        f"contact Ingegerd <{logs.EMAIL_MASK}>, {logs.PHONE_MASK}, pnr 19811228-XXXX")
    assert "ValueError" in failed["exception"] and "19811228-XXXX" in failed["exception"]
    assert leaks(captured.getvalue()) == []
    assert "19811228-XXXX" in mapping["message"]
    # Dates, references, counts and ids are no one's number.
    assert plain["message"] == (
        "case MC-2026-000123 at 2026-12-02T10:00:00+00:00, 12345678 rows, 3f2a1b4c-1234")


def test_a_request_gets_an_id_on_its_lines_and_in_its_response(client, captured):
    log = logging.getLogger("citizencenter.test")
    # An app of the test's own with the same request-id hooks (the suite's app has served
    # requests already, so no route can be added to it).
    own = Flask(__name__)
    logs.init_app(own)

    @own.get("/_test/log-line")
    def _log_line():
        log.info("in the request")
        return {}

    own_client = own.test_client()
    given = own_client.get("/_test/log-line", headers={"X-Request-ID": "lb-4711.abc:1"})
    assert given.headers["X-Request-ID"] == "lb-4711.abc:1"
    made = own_client.get("/_test/log-line")
    for bad in ("<script>", "a b", "x" * 200, "é", "-leading", "per@example.se",
                NUMBER.replace("-", ""), "0701239876"):  # nor personal data
        response = own_client.get("/_test/log-line", headers={"X-Request-ID": bad})
        assert response.headers["X-Request-ID"] != bad
        assert len(response.headers["X-Request-ID"]) == 32
    assert len(made.headers["X-Request-ID"]) == 32
    lines = json_lines(captured.getvalue())
    ids = [line.get("request_id") for line in lines if line["message"] == "in the request"]
    assert ids[:2] == ["lb-4711.abc:1", made.headers["X-Request-ID"]]
    assert client.get("/api/v1/health").headers["X-Request-ID"]  # the app's too
    log.info("outside a request")
    assert "request_id" not in json_lines(captured.getvalue())[-1]


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _routed(case_id) -> bool:
    try:
        return db.session.scalar(select(Case.routed_at).where(Case.id == case_id)) is not None
    finally:
        db.session.remove()  # on SQLite an open transaction would hold the write lock


@pytest.mark.worker
def test_a_case_is_followed_by_its_request_id_into_its_tasks_without_personal_data(
        app, committed, worker_env, start_celery, captured):
    _, token = accounts.create_token(committed, "logs test", role="guide")
    client = app.test_client()
    opened_id, reply_id = f"open-{uuid.uuid4().hex}", f"reply-{uuid.uuid4().hex}"
    with running_smtp(recipients_and_text) as inbox:
        worker_env.update(LOG_FORMAT="json", SMTP_HOST="127.0.0.1", SMTP_PORT=str(inbox.port))
        worker = start_celery("worker")
        response = client.post("/api/v1/cases", headers={
            **bearer(token), "X-Request-ID": opened_id}, json={
            "channel": "email", "subject": "Fråga om bygglov", "category": "bygglov",
            "description": f"Jag heter {NAME}, personnummer {NUMBER}. Ring mig på 070-123 98 76 "
                           f"eller skriv till {EMAIL}.",
            "contact": {"name": NAME, "email": EMAIL, "phone": PHONE}})
        assert response.status_code == 201, response.get_json()
        assert response.headers["X-Request-ID"] == opened_id
        case_id = uuid.UUID(response.get_json()["id"])
        _wait_until(lambda: _routed(case_id), 60, "the case to be routed")
        reply = client.post(f"/api/v1/cases/{case_id}/messages", headers={
            **bearer(token), "X-Request-ID": reply_id}, json={
            "direction": "outbound", "body": f"Hej {NAME}! Du behöver inget bygglov."})
        assert reply.status_code == 201, reply.get_json()
        _wait_until(lambda: any("inget bygglov" in text for _, text in inbox.messages), 60,
                    "the reply to be sent")
        worker.stop()

    db.session.remove()
    topics = dict(committed.execute(
        select(OutboxMessage.topic, OutboxMessage.request_id)).all())
    assert topics["case.created"] == opened_id and topics["email.send_reply"] == reply_id

    worker_lines = json_lines(worker.output())  # the worker's whole output, banner and all
    assert worker_lines and leaks(worker.output()) == []
    # The task that routed the case logged with the POST's request id (other route_case
    # runs, for cases waiting from before, carry theirs or none), and with the case's id
    # unless its message woke the worker for other waiting cases too.
    routed = [line for line in worker_lines if line.get("task_name") == "routing.route_case"
              and opened_id in line.get("request_id", "").split(",")]
    assert routed, worker.output()
    assert {line.get("case_id", str(case_id)) for line in routed} == {str(case_id)}
    sent = [line for line in worker_lines if line.get("task_name") == "email.send_reply"]
    assert sent and {line["request_id"] for line in sent} == {reply_id}
    assert leaks(captured.getvalue()) == []
    json_lines(captured.getvalue())


def test_a_message_sent_while_a_task_runs_carries_its_request_id_on(app, redis_server):
    from workers import logs as worker_logs

    worker_logs.connect(app.config)
    broker = redis_server.url.rsplit("/", 1)[0] + "/12"
    queue = redis.Redis.from_url(broker)
    queue.flushdb()
    publisher = outbox.Publisher(broker)
    try:
        tokens = log_context.bind(request_id="open-4711", task_name="routing.route_case")
        try:  # as a task's retry is sent: without headers of its own
            publisher.send("routing.route_case", [{"case_ids": []}])
        finally:
            log_context.unbind(tokens)
        publisher.send("routing.route_case", [{"case_ids": []}], "given-1")
        publisher.send("routing.route_case", [{"case_ids": []}])  # no request, no id
        sent = [json.loads(item)["headers"] for item in queue.lrange("celery", 0, -1)]
        assert sorted(str(h.get("request_id")) for h in sent) == [
            "None", "given-1", "open-4711"]
    finally:
        queue.flushdb()
        queue.close()


def test_the_production_run_logs_json_unless_told_and_at_log_level():
    from tests.test_settings import PRODUCTION, _run

    default = _run("production", "procfile", **PRODUCTION)
    assert default.returncode == 0, default.stderr
    lines = dict(line.split(": ", 1) for line in default.stdout.splitlines())
    assert "--logger-class citizencenter.logs.GunicornLogger" in lines["web"]
    assert all(" celery --quiet " in lines[name] and "--loglevel INFO" in lines[name]
               for name in ("worker", "calls", "beat"))
    told = _run("production", "procfile", **PRODUCTION, LOG_FORMAT="text", LOG_LEVEL="WARNING")
    assert told.returncode == 0, told.stderr
    assert " --quiet " not in told.stdout and told.stdout.count("--loglevel WARNING") == 3
    bad = _run("production", "procfile", **PRODUCTION, LOG_FORMAT="xml")
    assert bad.returncode == 2 and "LOG_FORMAT=xml is not one of text, json" in bad.stderr
