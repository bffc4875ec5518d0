"""Meta settings for the app under test, signed deliveries and a transport that records."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from citizencenter.channels.social.sender import MetaSender, TransportResponse

APP_SECRET = "5b1e9f0c2d4a6b8e0f1a3c5d7e9b2d4f"
VERIFY_TOKEN = "lund-kontaktcenter-verify-7731"
PAGE_TOKEN = "EAAGm0PX4ZCpsBAKZBZCtoken"
PAGE_ID = "104592718855123"
IG_ACCOUNT_ID = "17841405822304914"
WEBHOOK_URL = "/api/v1/integrations/meta/webhook"


@pytest.fixture
def meta_app(app, monkeypatch):
    """The app with Meta configured (restored after the test)."""
    for name, value in {"META_APP_SECRET": APP_SECRET, "META_VERIFY_TOKEN": VERIFY_TOKEN,
                        "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN, "SOCIAL_REOPEN_DAYS": 14}.items():
        monkeypatch.setitem(app.config, name, value)
    return app


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_signed(client, payload, *, secret: str = APP_SECRET, body: bytes | None = None,
                content_type: str = "application/json"):
    body = json.dumps(payload, ensure_ascii=False).encode() if body is None else body
    return client.post(WEBHOOK_URL, data=body, headers={
        "Content-Type": content_type, "X-Hub-Signature-256": signature(body, secret)})


_mids = iter(range(1, 10**9))


def text_event(citizen: str, text: str, *, mid: str | None = None, page: str = PAGE_ID,
               timestamp_ms: int | None = None) -> dict:
    return {"sender": {"id": citizen}, "recipient": {"id": page},
            "timestamp": timestamp_ms or int(time.time() * 1000) - 1000,
            "message": {"mid": mid or f"m_test{next(_mids)}", "text": text}}


def echo_event(citizen: str, text: str, page: str = PAGE_ID) -> dict:
    return {"sender": {"id": page}, "recipient": {"id": citizen},
            "timestamp": int(time.time() * 1000) - 500,
            "message": {"mid": f"m_echo{next(_mids)}", "is_echo": True, "app_id": 1517776481860111,
                        "text": text}}


def delivery(*events: dict, page: str = PAGE_ID, kind: str = "page") -> dict:
    return {"object": kind, "entry": [{"id": page, "time": int(time.time() * 1000),
                                       "messaging": list(events)}]}


class RecordingTransport:
    """Answers like the Graph API and keeps every request exactly as it would go out."""

    def __init__(self, *answers):
        self.requests = []
        self.answers = list(answers)

    def send(self, request, timeout_s):
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, TransportResponse):
            return answer
        n = len(self.requests)
        return TransportResponse(200, json.dumps({"recipient_id": "x",
                                                  "message_id": f"m_sent{n}"}).encode())


@pytest.fixture
def sender_with(meta_app):
    def build(*answers) -> tuple[MetaSender, RecordingTransport]:
        transport = RecordingTransport(*answers)
        return MetaSender.from_config(meta_app.config, transport), transport

    return build


class _GraphApi(BaseHTTPRequestHandler):
    """Stands in for graph.facebook.com on loopback and keeps what it was sent."""

    received: list = []

    def do_POST(self):  # noqa: N802 - the http.server interface
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        answer = json.dumps({"recipient_id": "x",
                             "message_id": f"m_local{len(self.received)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def graph_api():
    """(base URL, list of (path, content type, body) received)."""
    _GraphApi.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GraphApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _GraphApi.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker_env(worker_env, graph_api):
    """Workers started by these tests send to the stand-in Graph API."""
    return {**worker_env, "META_APP_SECRET": APP_SECRET, "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
            "META_GRAPH_URL": graph_api[0]}
