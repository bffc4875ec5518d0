"""The queue_log follower against a real HTTP server."""

import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from citizencenter import db
from citizencenter.channels.phone.follower import DeliveryFailed, QueueLogFollower, http_poster
from citizencenter.channels.phone.models import CallEvent
from citizencenter.integrations import service as integrations
from tests.channels.phone.helpers import CallSpec, at


@pytest.fixture
def server(app, committed):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def _events(session) -> int:
    try:
        return session.scalar(select(func.count()).select_from(CallEvent))
    finally:
        db.session.remove()


def test_follows_resumes_and_survives_rotation(app, committed, server, tmp_path):
    _, token, secret = integrations.create_integration(committed, "asterisk-1", ["calls:write"],
                                                       app.config["SECRET_KEY"])
    db.session.remove()
    log, state = tmp_path / "queue_log", tmp_path / "state"
    url = f"{server}/api/v1/integrations/calls/asterisk"
    lines = [line for n in range(4) for line in
             CallSpec(f"f.{n}", at(9, n), "answered", wait=10, talk=20).lines()]
    log.write_text("\n".join(lines[:6]) + "\n" + lines[6][:10])  # the last line unfinished
    follower = QueueLogFollower(log, state, http_poster(url, token, secret), batch_lines=4)
    assert follower.poll_once() == 6
    assert _events(committed) == 6
    # A restarted follower resumes where the last one stopped.
    with log.open("a") as handle:
        handle.write(lines[6][10:] + "\n" + "\n".join(lines[7:]) + "\n")
    restarted = QueueLogFollower(log, state, http_poster(url, token, secret))
    assert restarted.poll_once() == len(lines) - 6
    assert restarted.poll_once() == 0
    assert _events(committed) == len(lines)
    # Rotation: a new file is read from its start.
    log.unlink()
    log.write_text("\n".join(CallSpec("f.9", at(10), "abandoned", wait=30).lines()) + "\n")
    assert restarted.poll_once() == 2
    assert _events(committed) == len(lines) + 2


def test_a_refused_delivery_keeps_the_position(app, committed, server, tmp_path):
    log, state = tmp_path / "queue_log", tmp_path / "state"
    log.write_text("\n".join(CallSpec("g.1", at(9), "abandoned", wait=30).lines()) + "\n")
    url = f"{server}/api/v1/integrations/calls/asterisk"
    follower = QueueLogFollower(log, state, http_poster(url, "cc_wrong", "whsec_AAAA"))
    with pytest.raises(DeliveryFailed):
        follower.poll_once()
    assert not state.exists()
    dead = QueueLogFollower(log, state, http_poster("http://127.0.0.1:9/x", "t", "whsec_AAAA"))
    with pytest.raises(DeliveryFailed):
        dead.poll_once()
