"""Password resets by a one-time link sent by e-mail.

The link's token is signed: "<reset id>.<HMAC of the id and a random nonce under a key
derived from SECRET_KEY>". Only its SHA-256 is stored, with an expiry and the time it was
used, so a link works once and not after it expires; the worker that mails it makes the
token again from the id (a Celery argument is an id, never a secret). The token is never
logged or audited (logs.py masks reset links in log lines)."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from citizencenter import keys, mailer, outbox
from citizencenter.accounts.models import PasswordReset, User
from citizencenter.accounts.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from citizencenter.accounts.service import InvalidAccount, Principal, hash_token
from citizencenter.audit import service as audit
from citizencenter.db import is_postgresql, utcnow
from citizencenter.errors import AppError, InvalidInput, NotFound

RESET_TTL = timedelta(hours=2)
LINK_PATH = "/reset-password/"
_PURPOSE = "password-reset"


class ResetLinkInvalid(AppError):
    """Unknown, used or expired: one answer for all."""

    status, title, slug = 410, "Reset link not valid", "reset-link-invalid"


def _token(key: bytes, reset: PasswordReset) -> str:
    mac = hmac.new(key, f"{reset.id}:{reset.nonce}".encode(), hashlib.sha256).digest()
    return f"{reset.id}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def request_reset(session: Session, actor: Principal, user_id: int, config: Mapping, *,
                  now=None) -> PasswordReset:
    """Have a one-time link to choose a new password mailed to a user (admins); audited.

    The user's earlier unused links stop working. A worker sends the mail."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if not user.active:
        raise InvalidAccount("The user is deactivated; activate them first.")
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                                PasswordReset.used_at.is_(None))
                    .values(used_at=now))
    reset = PasswordReset(user_id=user.id, nonce=secrets.token_hex(16), token_hash="",
                          created_at=now, expires_at=now + RESET_TTL, created_by=actor.actor)
    session.add(reset)
    session.flush()
    reset.token_hash = hash_token(_token(keys.for_purpose(config, _PURPOSE), reset))
    outbox.enqueue(session, "accounts.password_reset", {"reset_id": reset.id})
    audit.record(session, actor.actor, "user.password_reset_sent", "user", user.id,
                 reset_id=reset.id, expires_at=reset.expires_at)  # never the token
    session.commit()
    return reset


def send_reset_mail(session: Session, reset_id: int, config: Mapping, *, now=None) -> bool:
    """Mail a reset link (the worker's task); a used or expired link is not sent.

    Raises mailer.MailNotSent so the task retries."""
    reset = session.get(PasswordReset, reset_id)
    if reset is None or reset.used_at is not None or reset.expires_at <= (now or utcnow()):
        return False
    token = next((t for t in (_token(k, reset) for k in keys.verifying_keys(config, _PURPOSE))
                  if hash_token(t) == reset.token_hash), None)
    user = session.get(User, reset.user_id)
    if token is None or user is None:  # signed under a key no longer kept
        return False
    message = EmailMessage()
    message["From"], message["To"] = config["MAIL_FROM"], user.email
    message["Subject"] = "Välj ett lösenord till Medborgarcenter"
    link = config["PUBLIC_BASE_URL"].rstrip("/") + LINK_PATH + token
    hours = int(RESET_TTL.total_seconds() // 3600)
    message.set_content(
        f"Hej {user.name}!\n\nÖppna länken för att välja ett nytt lösenord. Den fungerar en "
        f"gång och i {hours} timmar:\n\n{link}\n\nHar du inte väntat dig det här brevet? "
        "Kontakta en administratör.\n")
    session.rollback()  # no transaction held open while the mail server answers
    mailer.send(message, config)
    return True


def _valid(session: Session, token: str, now, *, lock: bool = False) -> PasswordReset:
    query = select(PasswordReset).where(PasswordReset.token_hash == hash_token(token or ""))
    if lock and is_postgresql(session):
        query = query.with_for_update()
    reset = session.scalar(query)
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise ResetLinkInvalid("The link is unknown, used or expired; ask for a new one.")
    user = session.get(User, reset.user_id)
    if user is None or not user.active:
        raise ResetLinkInvalid("The link is unknown, used or expired; ask for a new one.")
    return reset


def check_link(session: Session, token: str, *, now=None) -> User:
    """The user a valid link is for (read only), or ResetLinkInvalid."""
    reset = _valid(session, token, now or utcnow())
    return session.get(User, reset.user_id)


def use_link(session: Session, token: str, password: str, *, now=None) -> User:
    """Set the password a valid link allows and use the link up; the rules of set-password."""
    now = now or utcnow()
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput("password", f"A password has {MIN_LENGTH} to {MAX_LENGTH} "
                           "characters.")
    reset = _valid(session, token, now, lock=True)
    user = session.get(User, reset.user_id)
    reset.used_at = now
    user.password_hash = hash_password(password)
    audit.record(session, f"user:{user.id}", "user.password_set", "user", user.id,
                 reset_id=reset.id)
    session.commit()
    return user
