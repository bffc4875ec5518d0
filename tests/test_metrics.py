"""GET /metrics: who may read it, what a flow leaves in it, and the counters of several
processes added up in one scrape."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from citizencenter.accounts.service import SYSTEM
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.channels.email.models import EmailKind, EmailMessage, MailboxState
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.config import local_zone
from citizencenter.metrics import exposition, multiprocess
from citizencenter.metrics.figures import read_figures
from citizencenter.routing.service import route_case
from citizencenter.sla.enums import LedgerEvent
from citizencenter.sla.models import SlaLedgerEntry, SlaTimer
from tests.conftest import ROOT

URL = "/metrics"
OUTSIDE = "203.0.113.9"
# Every metric the README's "Metrics" section names.
DOCUMENTED = (
    "citizencenter_http_requests_total", "citizencenter_http_request_duration_seconds",
    "citizencenter_celery_tasks_total", "citizencenter_celery_task_duration_seconds",
    "citizencenter_celery_queue_length",
    "citizencenter_outbox_backlog", "citizencenter_outbox_oldest_age_seconds",
    "citizencenter_cases_unrouted", "citizencenter_cases_open",
    "citizencenter_calls_waiting", "citizencenter_calls_longest_wait_seconds",
    "citizencenter_sla_warnings_today", "citizencenter_sla_breaches_today",
    "citizencenter_outgoing_mail", "citizencenter_imap_poll_age_seconds",
    "citizencenter_metrics_database_up", "citizencenter_metrics_redis_up",
)


def samples(text: str) -> dict[str, float]:
    """Each sample line of an exposition, "name{labels}" -> value."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


def value(found: dict[str, float], name: str, **labels: str) -> float:
    """The sample of `name` whose labels include `labels`."""
    for key, number in found.items():
        metric, _, rest = key.partition("{")
        if metric == name and all(f'{k}="{v}"' in rest for k, v in labels.items()):
            return number
    raise AssertionError(f"no sample {name} {labels}")


# --- who may read it --------------------------------------------------------------------

def test_loopback_reads_the_metrics(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    assert "# TYPE citizencenter_http_requests_total counter" in response.text
    assert value(samples(response.text), "citizencenter_metrics_database_up") == 1


def test_anyone_else_gets_404_as_if_nothing_were_there(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "a-long-metrics-token-for-the-test")
    outside = {"REMOTE_ADDR": OUTSIDE}
    refused = [
        client.get(URL, environ_base=outside),
        client.get(URL, environ_base=outside,
                   headers={"Authorization": "Bearer not-the-metrics-token"}),
        client.get(URL, environ_base=outside, headers={"Authorization": "a-long-metrics-"
                                                       "token-for-the-test"}),
        # X-Forwarded-For counts only from a trusted proxy (none here).
        client.get(URL, environ_base=outside, headers={"X-Forwarded-For": "127.0.0.1"}),
    ]
    assert [r.status_code for r in refused] == [404] * 4
    # The very answer of a page that does not exist.
    nothing = client.get("/no-such-page", environ_base=outside)
    assert (refused[0].content_type, refused[0].data) == (nothing.content_type, nothing.data)
    allowed = client.get(URL, environ_base=outside, headers={
        "Authorization": "Bearer a-long-metrics-token-for-the-test"})
    assert allowed.status_code == 200


def test_an_unset_token_opens_nothing(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    response = client.get(URL, environ_base={"REMOTE_ADDR": OUTSIDE},
                          headers={"Authorization": "Bearer "})
    assert response.status_code == 404


def test_the_allowed_networks_are_a_setting(client, app, monkeypatch):
    from citizencenter.proxies import parse_networks

    monkeypatch.setitem(app.extensions, "metrics_networks", parse_networks("203.0.113.0/24"))
    assert client.get(URL, environ_base={"REMOTE_ADDR": OUTSIDE}).status_code == 200
    assert client.get(URL).status_code == 404  # loopback is no longer in the list


def test_requests_are_counted_by_route_never_by_path(client, tokens):
    from tests.factories import bearer

    case_id = "0b3c8f4e-5d2a-4c1b-9e7f-2a6d8c4b1e90"
    client.get(f"/api/v1/cases/{case_id}", headers=bearer(tokens["admin"]))
    client.get("/nothing/here/19121212-1212")
    client.open("/nothing", method="INVENTED-METHOD")
    text = client.get(URL).text
    assert case_id not in text and "19121212" not in text and "INVENTED" not in text
    found = samples(text)
    assert value(found, "citizencenter_http_requests_total",
                 route="/api/v1/cases/<uuid:case_id>", method="GET", status="404") >= 1
    assert value(found, "citizencenter_http_requests_total",
                 route="(unmatched)", status="404") >= 1
    assert value(found, "citizencenter_http_requests_total", route="(unmatched)",
                 method="other") >= 1
    assert value(found, "citizencenter_http_request_duration_seconds_count",
                 route="/api/v1/cases/<uuid:case_id>", method="GET") >= 1


# --- the gauges, on a fixed clock -------------------------------------------------------

def test_the_gauges_read_the_backlog_and_the_live_state(session):
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(local_zone()).date()
    before = {f.name: f for f in read_figures(session, now)}
    base = {s.name + repr(sorted(s.labels.items())): s.value
            for f in before.values() for s in f.samples}

    routed = cases.open_case(session, SYSTEM, channel=Channel.EMAIL, subject="Fråga",
                             description="Hej")
    route_case(session, routed.id)
    unrouted = cases.open_case(session, SYSTEM, channel=Channel.WEBFORM, subject="Fråga",
                               description="Hej")
    session.add(Call(source="metrics-test", call_id="m-1", queue="vaxel",
                     outcome=CallOutcome.WAITING, entered_at=now - timedelta(seconds=45),
                     local_date=today))
    session.add(MailboxState(name="metrics-test", last_polled_at=now - timedelta(seconds=90)))
    for key, sent, failed in (("q", None, None), ("s", now, None), ("f", None, now)):
        session.add(EmailMessage(kind=EmailKind.REPLY, dedupe_key=f"metrics-test:{key}",
                                 case_id=routed.id, sent_at=sent, failed_at=failed))
    timer = session.scalars(select(SlaTimer).where(SlaTimer.case_id == routed.id)).first()
    assert timer is not None
    for event in (LedgerEvent.WARNED, LedgerEvent.BREACHED, LedgerEvent.BREACHED):
        session.add(SlaLedgerEntry(timer_id=timer.id, case_id=routed.id, event=event,
                                   occurred_at=now))
    session.commit()

    after = {s.name + repr(sorted(s.labels.items())): s.value
             for f in read_figures(session, now) for s in f.samples}

    def grew(name, **labels):
        key = name + repr(sorted(labels.items()))
        return after[key] - base.get(key, 0)

    assert grew("citizencenter_cases_unrouted") == 1  # the routed one is not
    assert grew("citizencenter_outbox_backlog") >= 2
    assert after["citizencenter_outbox_oldest_age_seconds[]"] >= 0
    assert grew("citizencenter_cases_open", status=str(unrouted.status),
                channel="webform") == 1
    assert grew("citizencenter_calls_waiting") == 1
    assert after["citizencenter_calls_longest_wait_seconds[]"] >= 45
    assert grew("citizencenter_sla_warnings_today") == 1
    assert grew("citizencenter_sla_breaches_today") == 2
    assert [grew("citizencenter_outgoing_mail", state=s) for s in ("queued", "sent", "failed")] \
        == [1, 1, 1]
    assert after["citizencenter_imap_poll_age_seconds[('mailbox', 'metrics-test')]"] == 90
    # Every status and channel is there, zero or not, so a panel never has a gap.
    assert len([k for k in after if k.startswith("citizencenter_cases_open")]) == \
        4 * len(Channel)
    assert str(CaseStatus.CLOSED) not in repr(list(after))


# --- after a flow -----------------------------------------------------------------------

FLOW = """
import json, sys
from citizencenter import create_app
from workers.celery_app import make_celery
import workers.tasks.routing

flask_app = create_app()
celery = make_celery(flask_app)
web = flask_app.test_client()
created = web.post("/api/v1/webform/inquiries", environ_base={"REMOTE_ADDR": "198.51.100.77"},
                   json={"category": "felanmalan", "subject": "Trasig lampa",
                         "message": "Lampan lyser inte."})
assert created.status_code == 201, created.text
import redis
from sqlalchemy import select
from citizencenter import db
from citizencenter.cases.models import Case
with flask_app.app_context():
    ids = [str(i) for i in db.session.scalars(select(Case.id).where(
        Case.routed_at.is_(None)))]
    db.session.remove()
routed = celery.tasks["routing.route_case"].apply(args=[{"case_ids": ids}])
failed = celery.tasks["routing.assign_case"].apply(args=[{"case_id": "not-a-case-id"}])
# route_case retries whatever fails (eagerly here, each retry a run of its own).
celery.tasks["routing.route_case"].apply(args=[{"case_ids": ["not-a-case-id"]}])
scrape = web.get("/metrics")
print(json.dumps({"routed": routed.state, "failed": failed.state, "status": scrape.status_code,
                  "text": scrape.text}))
"""


@pytest.fixture
def clean_queues(redis_server):
    broker = redis.Redis.from_url(redis_server.url)
    yield
    broker.delete("celery", "calls")  # what the child's relay published: nobody consumes it
    broker.close()


def test_every_documented_metric_appears_after_a_flow(committed, worker_env, clean_queues):
    env = {**worker_env, "WEBFORM_RATE_LIMIT": "100"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-c", FLOW], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["routed"], result["failed"], result["status"]) == \
        ("SUCCESS", "FAILURE", 200)
    text = result["text"]
    for name in DOCUMENTED:
        assert f"# TYPE {name} " in text, name
        # A sample of each, but for the mailboxes: none is configured here (the poll age
        # of one is in test_the_gauges_read_the_backlog_and_the_live_state).
        if name != "citizencenter_imap_poll_age_seconds":
            assert re.search(rf"^{name}(_count|_bucket|_sum)?[{{ ]", text, re.M), name
    found = samples(text)
    assert value(found, "citizencenter_http_requests_total", route="/api/v1/webform/inquiries",
                 method="POST", status="201") == 1
    assert value(found, "citizencenter_http_request_duration_seconds_count",
                 route="/api/v1/webform/inquiries", method="POST") == 1
    assert value(found, "citizencenter_celery_tasks_total", task="routing.route_case",
                 outcome="success") == 1
    assert value(found, "citizencenter_celery_tasks_total", task="routing.assign_case",
                 outcome="failure") == 1
    assert value(found, "citizencenter_celery_tasks_total", task="routing.route_case",
                 outcome="retry") >= 1
    runs = sum(number for key, number in found.items()
               if key.startswith("citizencenter_celery_tasks_total{")
               and 'task="routing.route_case"' in key)
    assert value(found, "citizencenter_celery_task_duration_seconds_count",
                 task="routing.route_case") == runs  # every run timed, whatever its outcome
    assert value(found, "citizencenter_cases_open", status="new", channel="webform") + \
        value(found, "citizencenter_cases_open", status="open", channel="webform") >= 1
    assert value(found, "citizencenter_cases_unrouted") == 0  # the worker routed it
    assert value(found, "citizencenter_metrics_database_up") == 1
    assert value(found, "citizencenter_metrics_redis_up") == 1
    assert value(found, "citizencenter_celery_queue_length", queue="celery") >= 0
    for name in ("citizencenter_outbox_backlog", "citizencenter_outbox_oldest_age_seconds",
                 "citizencenter_calls_waiting", "citizencenter_calls_longest_wait_seconds",
                 "citizencenter_sla_warnings_today", "citizencenter_sla_breaches_today"):
        assert value(found, name) >= 0
    for state in ("queued", "sent", "failed"):
        assert value(found, "citizencenter_outgoing_mail", state=state) >= 0


# --- several processes ------------------------------------------------------------------

WRITER = """
import sys
from citizencenter.metrics import instruments
instruments.observe_request("/api/v1/cases", "GET", 200, 0.02)
instruments.task_started("t")
instruments.task_finished("t", "routing.route_case", "SUCCESS")
print("written")
"""


class NoGauges:
    def collect(self):
        return []


def test_one_scrape_adds_up_the_counters_of_every_process(tmp_path):
    directory = multiprocess.prepare(tmp_path / "instance")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    assert [w.communicate(timeout=60)[0].strip() for w in writers] == ["written"] * 2
    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per process
    found = samples(exposition.render(NoGauges(), str(directory)).decode())
    assert value(found, "citizencenter_http_requests_total", route="/api/v1/cases",
                 method="GET", status="200") == 2
    assert value(found, "citizencenter_celery_tasks_total", task="routing.route_case",
                 outcome="success") == 2
    assert value(found, "citizencenter_celery_task_duration_seconds_count",
                 task="routing.route_case") == 2
    # A new run starts from nothing: the files of the last run's processes go.
    assert multiprocess.prepare(tmp_path / "instance") == directory
    assert list(directory.iterdir()) == []


def test_the_production_web_line_marks_dead_workers():
    from citizencenter import production
    from citizencenter.config import Config
    from citizencenter.metrics import gunicorn_hooks

    settings = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    web = production.procfile(settings).splitlines()[0]
    assert "--config python:citizencenter.metrics.gunicorn_hooks" in web
    assert callable(gunicorn_hooks.child_exit)


def test_the_grafana_dashboard_shows_every_documented_metric_and_no_other():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "citizencenter.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"]
             for target in panel.get("targets", ())]
    used = {re.sub(r"_(bucket|count|sum)$", "", name)
            for expr in exprs for name in re.findall(r"citizencenter_[a-z_]+", expr)}
    assert used == set(DOCUMENTED)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def test_gunicorn_workers_add_up_and_a_dead_workers_counts_stay(worker_env, tmp_path):
    from tests.conftest import Process, _free_port, wait_for_port

    directory = multiprocess.prepare(tmp_path)
    port = _free_port()
    env = {**worker_env, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    web = Process([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                   "--workers", "2", "--threads", "1", "--config",
                   "python:citizencenter.metrics.gunicorn_hooks", "citizencenter:create_app()"],
                  env, tmp_path / "gunicorn.log")
    try:
        wait_for_port(port, 60)
        base = f"http://127.0.0.1:{port}"
        for _ in range(12):
            _get(base + "/api/v1/health")
        route = {"route": "/api/v1/health", "method": "GET", "status": "200"}
        assert value(samples(_get(base + URL)), "citizencenter_http_requests_total",
                     **route) == 12
        booted = re.findall(r"Booting worker with pid: (\d+)", web.output())
        assert len(booted) == 2
        os.kill(int(booted[0]), signal.SIGTERM)  # gunicorn starts another in its place
        deadline = time.monotonic() + 60
        while len(re.findall(r"Booting worker with pid", web.output())) < 3:
            assert time.monotonic() < deadline, web.output()[-3000:]
            time.sleep(0.2)
        for _ in range(3):
            _get(base + "/api/v1/health")
        found = samples(_get(base + URL))
        assert value(found, "citizencenter_http_requests_total", **route) == 15
        assert value(found, "citizencenter_http_requests_total", route="/metrics",
                     method="GET", status="200") == 1  # the first scrape
    finally:
        web.stop()
