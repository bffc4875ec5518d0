"""The embedded run's outgoing mail: the SMTP sink keeps each message the system sends as
one .eml file, and /dev/mail shows them to signed-in staff; outside the embedded run (no
DEV_MAIL_DIR) /dev/mail does not exist."""

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

import pytest

from citizencenter.accounts import passwords
from citizencenter.channels.email import outbound
from citizencenter.channels.webform import service as webform
from citizencenter.devmail import sink, store
from tests.conftest import _free_port
from tests.web.conftest import PASSWORD, USERS

# Outside the embedded run the session cookie is Secure, and CSRF checks the Referer.
HTTPS = "https://localhost"
SAME_SITE = {"Referer": HTTPS + "/login"}


def _sign_in(client) -> None:
    page = client.get("/login", base_url=HTTPS).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url=HTTPS, headers=SAME_SITE, data={
        "email": USERS["guide"][0], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text


def _get(client, path: str):
    return client.get(path, base_url=HTTPS)


@pytest.fixture
def guide(session):
    passwords.set_password(session, USERS["guide"][0], PASSWORD)


@pytest.fixture
def mail_dir(tmp_path, app):
    """A running sink and the app as `citizencenter run` configures it."""
    directory = tmp_path / "mail"
    controller = sink.start(directory, _free_port())
    app.config["DEV_MAIL_DIR"] = str(directory)
    try:
        yield directory, controller.port
    finally:
        app.config["DEV_MAIL_DIR"] = ""
        controller.stop()


def test_the_sink_keeps_an_acknowledgement_and_dev_mail_shows_it(app, client, session, guide,
                                                                mail_dir):
    directory, port = mail_dir
    case = webform.submit_inquiry(session, category="bygglov", subject="Plank mot gatan",
                                  message="Behövs bygglov?", name="Karin Ek",
                                  email="karin.devmail@example.se")
    config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}
    assert outbound.send_acknowledgement(session, case.id, config) == "sent"
    [kept] = directory.glob("*.eml")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700

    assert _get(client, "/dev/mail").status_code == 302  # staff only: to the sign-in
    _sign_in(client)
    listing = _get(client, "/dev/mail")
    assert listing.status_code == 200, listing.text
    assert "karin.devmail@example.se" in listing.text
    assert "Vi har tagit emot ditt meddelande: Plank mot gatan" in listing.text
    link = re.search(r'href="(/dev/mail/[^"]+\.eml)"', listing.text).group(1)
    shown = _get(client, link)
    assert shown.status_code == 200
    assert "Auto-Submitted" in shown.text and "auto-replied" in shown.text  # headers
    assert case.reference in shown.text  # the text the citizen reads


def _mail(subject: str, html: str | None = None) -> bytes:
    message = EmailMessage(policy=default)
    message["To"], message["From"] = "per@example.se", "kontaktcenter@lund.example"
    message["Subject"] = subject
    message.set_content("Hej Per!")
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def test_dev_mail_lists_newest_first_and_shows_html_as_text(client, guide, mail_dir):
    directory, _ = mail_dir
    store.keep(directory, _mail("Det äldre brevet"), now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    newer = store.keep(directory, _mail("Det nyare brevet", html=(
        "<p>Hej</p><script>alert('x')</script><img src=x onerror=alert(1)>")),
        now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    _sign_in(client)
    listing = _get(client, "/dev/mail").text
    assert listing.index("Det nyare brevet") < listing.index("Det äldre brevet")
    shown = _get(client, f"/dev/mail/{newer.name}")
    assert shown.status_code == 200
    assert "&lt;script&gt;alert(" in shown.text and "<script>alert" not in shown.text
    assert "<img src=x" not in shown.text
    assert "Hej Per!" in shown.text
    for name in ("..%2Fsecret_key", "x.eml", newer.name.replace(".eml", ".txt")):
        assert _get(client, f"/dev/mail/{name}").status_code == 404


def test_dev_mail_does_not_exist_outside_the_embedded_run(app, client, guide, tmp_path):
    assert app.config["DEV_MAIL_DIR"] == ""
    kept = store.keep(tmp_path, _mail("Hemligt"))
    assert _get(client, "/dev/mail").status_code == 404  # not even a sign-in page
    _sign_in(client)
    assert _get(client, "/dev/mail").status_code == 404
    assert _get(client, f"/dev/mail/{kept.name}").status_code == 404
