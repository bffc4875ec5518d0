"""A real IMAP server (Dovecot) and a real SMTP server (aiosmtpd) for the e-mail tests.

Dovecot runs as a child process from a config and mail store in a temporary
directory, listening on a free loopback port with plaintext login allowed (loopback
only, no TLS) for users in a passwd-file. Dovecot refuses to run its login processes
as root, so when the tests run as root its processes use the Debian package's
system users (dovecot, dovenull) and the mail store belongs to `dovecot`; otherwise
everything runs as the current user.
"""

import contextlib
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from citizencenter.channels.email.settings import Mailbox
from tests.conftest import _free_port, wait_for_port

DOVECOT = "/usr/sbin/dovecot"
CENTRE = "Medborgarcenter Lund <medborgarcenter@lund.example>"
MAX_USERS = 500
EMAIL_TABLES = ("quarantined_emails", "mailbox_states", "acknowledged_senders",
                "email_attachments", "email_messages")


def _system_users() -> tuple[str, str, str]:
    """(internal user, login user, mail user) for Dovecot's processes."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, me
    names = {u.pw_name for u in pwd.getpwall()}
    internal = "dovecot" if "dovecot" in names else "nobody"
    login = "dovenull" if "dovenull" in names else "nobody"
    return internal, login, internal


class Dovecot:
    """A throwaway Dovecot IMAP server; each test gets its own user and mailbox."""

    PASSWORD = "hemligt-test"

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="citizencenter-dovecot-"))
        self.dir.chmod(0o755)  # the mail user must reach the store below it
        self.port = _free_port()
        self.users = itertools.count(1)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        internal, login, mail = _system_users()
        for name in ("run", "state", "mail"):
            (self.dir / name).mkdir()
        shutil.chown(self.dir / "mail", mail, pwd.getpwnam(mail).pw_gid)
        # All users up front: Dovecot may not notice a passwd-file changed within a second.
        (self.dir / "passwd").write_text("".join(
            f"kontakt{n}:{{PLAIN}}{self.PASSWORD}\n" for n in range(1, MAX_USERS + 1)))
        (self.dir / "dovecot.conf").write_text(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
mail_location = maildir:{self.dir}/mail/%u
mail_uid = {mail}
mail_gid = {pwd.getpwnam(mail).pw_gid}
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={mail} gid={pwd.getpwnam(mail).pw_gid} home={self.dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def new_user(self) -> str:
        number = next(self.users)
        assert number <= MAX_USERS, "raise MAX_USERS"
        return f"kontakt{number}"

    @contextlib.contextmanager
    def connect(self, user: str):
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(user, self.PASSWORD)
        try:
            yield conn
        finally:
            conn.logout()


@dataclass
class TestMailbox:
    """A user's INBOX on the test server, with helpers to deliver and inspect mail."""

    server: Dovecot
    user: str
    config: Mailbox

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        with self.server.connect(self.user) as conn:
            status, data = conn.append(f'"{folder}"', None, None, raw)
            assert status == "OK", data
            return int(data[0].split(b"APPENDUID ")[1].split(b" ")[1].rstrip(b"]"))

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.server.connect(self.user) as conn:
            status, _ = conn.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            return [int(u) for u in conn.uid("SEARCH", "ALL")[1][0].split()]

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        with self.server.connect(self.user) as conn:
            conn.select(f'"{folder}"', readonly=True)
            data = conn.uid("FETCH", str(uid), "(FLAGS)")[1][0].decode()
            return set(data.split("FLAGS (")[1].split(")")[0].split())

    def recreate_inbox_folder(self, folder: str) -> None:
        """Delete and create a folder: the server gives it a new UIDVALIDITY."""
        with self.server.connect(self.user) as conn:
            conn.delete(f'"{folder}"')
            conn.create(f'"{folder}"')


@pytest.fixture(scope="session")
def dovecot():
    if not os.path.exists(DOVECOT):
        pytest.fail("Dovecot is not installed: `make test` installs it via .ci/services")
    server = Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(dovecot) -> TestMailbox:
    user = dovecot.new_user()
    config = Mailbox(name=f"test-{user}", host="127.0.0.1", port=dovecot.port, user=user,
                     password=Dovecot.PASSWORD, ssl=False,
                     address="medborgarcenter@lund.example")
    return TestMailbox(dovecot, user, config)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self):
        return message_from_bytes(self.raw, policy=policy.default)


class Collector:
    """An SMTP handler that keeps every message; `refuse` answers 451 instead."""

    def __init__(self):
        self.messages: list[Received] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content or envelope.content))
        return "250 2.0.0 OK"

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.05)
        return list(self.messages)


@pytest.fixture(scope="session")
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp(smtp_server, app, monkeypatch) -> Collector:
    """The collecting SMTP server, emptied, and the app configured to send to it."""
    collector = smtp_server.handler
    collector.messages.clear()
    collector.refuse = False
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT_S", 5)
    monkeypatch.setitem(app.config, "MAIL_FROM", CENTRE)
    return collector


@pytest.fixture
def worker_env(worker_env, smtp_server) -> dict:
    return {**worker_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port),
            "SMTP_TIMEOUT_S": "5",
            "MAIL_FROM": CENTRE}


@pytest.fixture
def email_committed(committed, engine):
    """Really committed data; also empties the e-mail tables afterwards."""
    yield committed
    committed.remove()
    with engine.begin() as conn:
        for table in EMAIL_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def mail_token(session) -> str:
    from citizencenter.accounts import service as accounts

    return accounts.create_token(session, "test mail server", scopes=["mail:ingest"])[1]
