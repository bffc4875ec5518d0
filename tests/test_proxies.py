"""Behind a reverse proxy: X-Forwarded-* believed from TRUSTED_PROXIES alone, so the web
form's rate limit and the sign-in lock-out count the citizen's address, not the proxy's,
and a caller cannot pick the address it is counted under."""

import re

import pytest
import redis

from citizencenter.accounts.lockout import Limits
from citizencenter.proxies import TrustedProxies, parse_networks
from tests.channels.webform.test_inquiries import inquiry

URL = "/api/v1/webform/inquiries"
PROXY = "10.20.0.5"
HTTPS = "https://localhost"


@pytest.fixture
def form_client(client, redis_server):
    """The test client, with the web form's counters cleared before and after."""
    limiter = redis.Redis.from_url(redis_server.url)

    def clear():
        for key in limiter.scan_iter("citizencenter:webform:*"):
            limiter.delete(key)

    clear()
    yield client
    clear()
    limiter.close()


@pytest.fixture
def behind_proxy(app, monkeypatch):
    """The app as create_app built it, with TRUSTED_PROXIES=10.20.0.0/24."""
    assert isinstance(app.wsgi_app, TrustedProxies)
    monkeypatch.setattr(app.wsgi_app, "networks", parse_networks("10.20.0.0/24, ::1"))


def _inquire(client, peer: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(URL, json=inquiry(email=None), headers=headers,
                       environ_base={"REMOTE_ADDR": peer}).status_code


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(form_client, behind_proxy,
                                                                   app):
    limit = app.config["WEBFORM_RATE_LIMIT"]
    statuses = [_inquire(form_client, "198.51.100.20", f"203.0.113.{n}")
                for n in range(limit + 1)]
    assert statuses == [201] * limit + [429]  # one address, whatever the header says


def test_the_forwarded_for_of_a_trusted_proxy_names_the_citizen(form_client, behind_proxy,
                                                                app):
    limit = app.config["WEBFORM_RATE_LIMIT"]
    # Every citizen comes through the same proxy; each has a limit of their own.
    assert [_inquire(form_client, PROXY, "203.0.113.7") for _ in range(limit + 1)] == \
        [201] * limit + [429]
    assert _inquire(form_client, PROXY, "203.0.113.8") == 201
    # A chain: a claim the client made up (203.0.113.7, already limited), the address our
    # outer proxy saw, our inner proxy: the nearest untrusted address is the one counted.
    assert _inquire(form_client, PROXY, "203.0.113.7, 203.0.113.9, 10.20.0.6") == 201


def test_without_trusted_proxies_the_header_is_ignored(form_client, app):
    limit = app.config["WEBFORM_RATE_LIMIT"]
    statuses = [_inquire(form_client, PROXY, f"203.0.113.{n + 50}") for n in range(limit + 1)]
    assert statuses == [201] * limit + [429]


def _token(client) -> str:
    page = client.get("/login", base_url=HTTPS, environ_base={"REMOTE_ADDR": PROXY}).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _fail_sign_in(client, email: str, peer: str, forwarded_for: str) -> int:
    return client.post("/login", base_url=HTTPS, headers={
        "Referer": HTTPS + "/login", "X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": peer},
        data={"email": email, "password": "fel-lösenord-1",
              "csrf_token": _token(client)}).status_code


@pytest.fixture
def short_limits(app):
    lockout = app.extensions["signin_lockout"]
    normal = lockout.limits
    lockout.limits = Limits(per_account=50, per_address=3, window_s=60)
    yield
    lockout.limits = normal


def test_the_sign_in_lock_out_sees_the_citizens_address(client, session, behind_proxy,
                                                        short_limits):
    # Through the proxy: one citizen is locked out, another behind the same proxy is not.
    assert [_fail_sign_in(client, f"p{n}@x.example", PROXY, "203.0.113.40")
            for n in range(4)] == [401, 401, 401, 429]
    assert _fail_sign_in(client, "q@x.example", PROXY, "203.0.113.41") == 401
    # Straight from an untrusted peer, a new header each time does not escape the lock.
    assert [_fail_sign_in(client, f"r{n}@x.example", "198.51.100.42", f"203.0.113.{n + 60}")
            for n in range(4)] == [401, 401, 401, 429]


def _seen(networks: str, peer: str, **headers) -> dict:
    seen = {}

    def inner(environ, start_response):
        seen.update(environ)
        return []

    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "HTTP_HOST": "10.20.0.5:8000"}
    environ.update({f"HTTP_X_FORWARDED_{k.upper()}": v for k, v in headers.items()})
    TrustedProxies(inner, parse_networks(networks))(environ, None)
    return seen


def test_proto_and_host_come_from_a_trusted_proxy_alone():
    trusted = _seen("10.20.0.0/24", PROXY, proto="https", host="kontaktcenter.lund.example",
                    **{"for": "203.0.113.5"})
    assert (trusted["REMOTE_ADDR"], trusted["wsgi.url_scheme"], trusted["HTTP_HOST"]) == \
        ("203.0.113.5", "https", "kontaktcenter.lund.example")
    spoofed = _seen("10.20.0.0/24", "198.51.100.3", proto="https", host="evil.example",
                    **{"for": "203.0.113.5"})
    assert (spoofed["REMOTE_ADDR"], spoofed["wsgi.url_scheme"], spoofed["HTTP_HOST"]) == \
        ("198.51.100.3", "http", "10.20.0.5:8000")
    assert "HTTP_X_FORWARDED_FOR" not in spoofed


def test_trusted_proxies_must_be_addresses_or_networks():
    assert [str(n) for n in parse_networks(" 10.0.0.5 , 192.168.0.0/24,,::1")] == \
        ["10.0.0.5/32", "192.168.0.0/24", "::1/128"]
    with pytest.raises(ValueError, match="'proxy.internal' is not an address or network"):
        parse_networks("10.0.0.5, proxy.internal")
