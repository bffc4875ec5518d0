"""Who is signed in to the pages: server-side sessions in Redis and `login_required`.

The session cookie (Flask's, signed, HttpOnly, SameSite=Lax) carries only a random session
id and the CSRF token; the id maps to the user in Redis with the idle timeout as its time
to live, touched on every page. Logging out deletes it, so a copied cookie dies with it.
Each request checks the user (kept per process while the users table stays unchanged, see
`reference_cache`), so a deactivated user or a changed role takes effect at once.
"""

import contextlib
import secrets
from functools import wraps
from urllib.parse import urlsplit

import redis
from flask import current_app, g, redirect, request, session, url_for

from citizencenter import db, reference_cache
from citizencenter.accounts import passwords
from citizencenter.accounts.lockout import SignInUnavailable
from citizencenter.accounts.models import User
from citizencenter.accounts.service import Principal

_KEY = "web-session:"


def _redis() -> redis.Redis:
    return current_app.extensions["web_redis"]


def _idle_s() -> int:
    return int(current_app.config["WEB_IDLE_TIMEOUT_S"])


def start_session(user: User) -> None:
    """Sign `user` in with a fresh session id (and CSRF token): the old ones die here."""
    end_session()
    sid = secrets.token_urlsafe(32)
    try:
        _redis().set(_KEY + sid, user.id, ex=_idle_s())
    except redis.RedisError:
        raise SignInUnavailable("Sign-in is unavailable for a moment.") from None
    session["sid"] = sid
    session.permanent = True  # the cookie lasts as long as the idle timeout, renewed per page


def end_session() -> None:
    sid = session.get("sid")
    if sid:
        with contextlib.suppress(redis.RedisError):  # it expires by itself anyway
            _redis().delete(_KEY + sid)
    session.clear()
    g.pop("csrf_token", None)  # a token made earlier in this request is of the old session


def _session_user_id() -> int | None:
    sid = session.get("sid")
    if not sid:
        return None
    try:
        with _redis().pipeline() as pipe:
            user_id, _ = pipe.get(_KEY + sid).expire(_KEY + sid, _idle_s()).execute()
    except redis.RedisError:
        raise SignInUnavailable("Sign-in is unavailable for a moment.") from None
    return int(user_id) if user_id is not None else None


def _signed_in_user(user_id: int) -> User | None:
    """The session's user as this process keeps it (`reference_cache`): any change to the
    users (a role, a deactivation, a new password) is seen by the next request all the same."""
    kept = reference_cache.cached(db.session, ("signed-in user", user_id),
                                  lambda: passwords.signed_in_user(db.session, user_id),
                                  rows=True)
    return reference_cache.attach(db.session, kept)


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to after signing in; never another host."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or urlsplit(target).netloc:
        return None
    return target


def login_required(view):
    """Let signed-in users through with `g.principal` (as the API builds it) and `g.user`;
    send everyone else to /login and back here afterwards."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        had_session = "sid" in session
        user_id = _session_user_id()
        user = _signed_in_user(user_id) if user_id is not None else None
        if user is None:
            end_session()
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("web.login", next=target,
                                    timeout=1 if had_session else None))
        g.user, g.principal = user, passwords.principal_for_user(user)
        return view(*args, **kwargs)

    return wrapper


def current_principal() -> Principal:
    """The signed-in user's principal: pass it to the same service functions the API uses."""
    return g.principal


def current_user() -> User | None:
    return g.get("user")
