"""Lock-out after repeated failed sign-ins, the idle timeout, and set-password."""

import re
import time

import pytest
import redis
from click.testing import CliRunner
from flask.cli import ScriptInfo

from citizencenter.accounts import passwords
from citizencenter.accounts.lockout import Limits
from citizencenter.cli import cli
from tests.web.conftest import PASSWORD, USERS, sign_in

LOCKED = "För många misslyckade inloggningar. Vänta en stund och försök igen."
FAILED = "Fel e-post eller lösenord."


def _try(page, email: str, password: str) -> str:
    page.goto("/login")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    alert = page.get_by_role("alert")
    return alert.inner_text() if alert.count() else ""


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(page, app):
    limit = app.config["SIGNIN_MAX_FAILURES_ACCOUNT"]
    email = USERS["guide"][0]
    assert [_try(page, email, f"fel-{n}-lösenord") for n in range(limit)] == [FAILED] * limit
    assert _try(page, email, PASSWORD) == LOCKED
    assert _try(page, "ingen.alls@lund.example", "x" * 12) == FAILED  # others still try
    sign_in(page, "supervisor")  # the address is not locked by one account's failures


# The same rules through the test client, with a small window to see them lift. Over
# https: outside the embedded run the session cookie is Secure (and CSRF checks Referer).
HTTPS = "https://localhost"
SAME_SITE = {"Referer": HTTPS + "/login"}


def _token(client, path="/login") -> str:
    page = client.get(path, base_url=HTTPS).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _post_login(client, email, password):
    return client.post("/login", base_url=HTTPS, headers=SAME_SITE, data={
        "email": email, "password": password, "csrf_token": _token(client)})


@pytest.fixture
def short_limits(app):
    lockout = app.extensions["signin_lockout"]
    normal = lockout.limits
    lockout.limits = Limits(per_account=2, per_address=3, window_s=4)
    yield lockout.limits
    lockout.limits = normal


@pytest.fixture
def with_password(session):
    passwords.set_password(session, USERS["guide"][0], PASSWORD)
    passwords.set_password(session, USERS["supervisor"][0], PASSWORD)


def test_an_address_is_locked_for_every_account_and_the_lock_lifts_after_the_window(
        app, client, with_password, short_limits):
    for email in ("a@lund.example", "b@lund.example", "c@lund.example"):
        assert _post_login(client, email, "fel-lösenord-1").status_code == 401
    response = _post_login(client, USERS["supervisor"][0], PASSWORD)
    assert response.status_code == 429 and LOCKED in response.text
    time.sleep(short_limits.window_s)
    response = _post_login(client, USERS["supervisor"][0], PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_right_password_clears_the_accounts_failures(app, client, with_password,
                                                       short_limits):
    email = USERS["guide"][0]
    assert _post_login(client, email, "fel-lösenord-1").status_code == 401
    assert _post_login(client, email, PASSWORD).status_code == 302
    client.post("/logout", base_url=HTTPS, headers=SAME_SITE,
                data={"csrf_token": _token(client, "/")})
    assert _post_login(client, email, "fel-lösenord-2").status_code == 401
    assert _post_login(client, email, PASSWORD).status_code == 302  # 1 failure, not 2


def test_the_session_ends_after_the_idle_timeout_and_not_while_in_use(app, client,
                                                                     with_password):
    app.config["WEB_IDLE_TIMEOUT_S"] = 3
    try:
        assert _post_login(client, USERS["guide"][0], PASSWORD).status_code == 302
        for _ in range(3):  # used every second: still signed in after three
            time.sleep(1)
            assert client.get("/", base_url=HTTPS).status_code == 200
        time.sleep(3.5)
        response = client.get("/", base_url=HTTPS)
    finally:
        app.config["WEB_IDLE_TIMEOUT_S"] = 8 * 3600
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/&timeout=1"
    assert "loggats ut efter en tids inaktivitet" in client.get("/login?timeout=1",
                                                                base_url=HTTPS).text


def _invoke(app, *args, input=None):
    return CliRunner().invoke(cli, list(args), input=input,
                              obj=ScriptInfo(create_app=lambda: app))


def test_set_password_reads_one_line_from_standard_input(app, client, session):
    email = USERS["supervisor"][0]
    result = _invoke(app, "set-password", "--email", email.upper(),
                     input="ett nytt lösenord\nnästa rad läses inte\n")
    assert result.exit_code == 0, result.output
    assert "ett nytt" not in result.output
    assert _post_login(client, email, "ett nytt lösenord").status_code == 302
    assert _post_login(client, email, "nästa rad läses inte").status_code == 401

    too_short = _invoke(app, "set-password", "--email", email, input="kort\n")
    assert too_short.exit_code == 1 and "12 to 1024 characters" in too_short.output
    unknown = _invoke(app, "set-password", "--email", "ingen@lund.example",
                      input="ett nytt lösenord\n")
    assert unknown.exit_code == 1 and "No user" in unknown.output


def test_a_password_is_stored_as_an_argon2id_hash(session):
    user = passwords.set_password(session, USERS["guide"][0], PASSWORD)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_signing_in_gives_a_new_session_id_and_ends_the_one_before(app, client, with_password,
                                                                  redis_server):
    store = redis.Redis.from_url(redis_server.url)
    ids = []
    for _ in range(2):
        assert _post_login(client, USERS["guide"][0], PASSWORD).status_code == 302
        with client.session_transaction(base_url=HTTPS) as cookie_session:
            ids.append(cookie_session["sid"])
    assert ids[0] != ids[1]
    assert store.get(f"web-session:{ids[0]}") is None
    assert store.ttl(f"web-session:{ids[1]}") > 0
