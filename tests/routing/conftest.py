"""Guides with skills and capacity, and clean-up for tests whose data really commits."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import text

from citizencenter.accounts import service as accounts
from citizencenter.db import utcnow
from citizencenter.routing import presence as presence_service
from citizencenter.routing.models import GuideProfile, Presence
from tests.conftest import recipients_and_text, running_smtp

TEST_DOMAIN = "routing.test"
_names = itertools.count(1)


def add_guide(session, *, skills: dict | None = None, capacities: dict | None = None,
              presence: str = "available", idle_for_s: float = 0, queues: list | None = None,
              role: str = "guide") -> GuideProfile:
    """A guide who has been idle for `idle_for_s` seconds."""
    n = next(_names)
    user = accounts.create_user(session, f"guide{n}@{TEST_DOMAIN}", f"Guide {n}", role)
    profile = presence_service.ensure_profile(session, user.id)
    if skills is not None:
        profile.skills = presence_service.join_skills(
            {"languages": ["sv"], "channels": ["email", "phone", "social", "webform"], **skills})
    if capacities is not None:
        profile.capacities = capacities
    if queues is not None:
        profile.queue_ids = queues
    profile.presence = Presence(presence)
    profile.idle_since = utcnow() - timedelta(seconds=idle_for_s)
    session.commit()
    return profile


@pytest.fixture
def guide(session):
    return lambda **kwargs: add_guide(session, **kwargs)


def _scrub(conn) -> None:
    users = f"(SELECT id FROM users WHERE email LIKE '%@{TEST_DOMAIN}')"
    for statement in (
        "DELETE FROM routing_decisions", "DELETE FROM case_forwardings",
        "DELETE FROM guide_profiles", "DELETE FROM queue_policies",
        "DELETE FROM routing_rule_versions", "DELETE FROM routing_rules",
        "DELETE FROM pbx_agents", "UPDATE cases SET assignee_id = NULL",
        "UPDATE departments SET webhook_url = NULL, webhook_secret_encrypted = NULL",
        f"DELETE FROM messages WHERE author_id IN {users}",
        f"DELETE FROM api_tokens WHERE user_id IN {users}",
        f"DELETE FROM users WHERE email LIKE '%@{TEST_DOMAIN}'",
    ):
        conn.execute(text(statement))


@pytest.fixture
def routing_committed(committed, engine, redis_server):
    """`committed`, plus removing the guides, rules and decisions the test made."""
    import redis

    from citizencenter.outbox import KICK_KEY

    # A kick taken by a worker an earlier test stopped would mute kicks for a while.
    redis.Redis.from_url(redis_server.url).delete(KICK_KEY)
    with engine.begin() as conn:
        _scrub(conn)
    yield committed
    committed.remove()
    with engine.begin() as conn:
        _scrub(conn)


@pytest.fixture
def smtp_inbox():
    with running_smtp(recipients_and_text) as inbox:
        yield inbox


class WebhookReceiver:
    """A department's HTTP endpoint that can be told to fail the first deliveries."""

    def __init__(self, fail_first: int = 0):
        self.fail_first, self.requests = fail_first, []

    def start(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if len(receiver.requests) <= receiver.fail_first else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/arenden"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver(fail_first=1).start()
    yield receiver
    receiver.stop()
