"""The staff pages: server-rendered Jinja with htmx, signed in with a password.

Every page blueprint is a `PageBlueprint`: its POST forms and htmx requests need the CSRF
token, its responses carry the Content-Security-Policy, and its errors render as pages.
The bearer-token API is never CSRF-checked. Shared layout: web/templates/base.html.
"""

import redis
from flask import Flask, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound

from citizencenter.accounts.lockout import Limits, SignInLockout
from citizencenter.config import is_embedded
from citizencenter.errors import _discard_changes, handle_http_exception
from citizencenter.web import texts
from citizencenter.web.blueprints import PageBlueprint, csrf, render_error, security_headers
from citizencenter.web.signin import current_principal, current_user, login_required

__all__ = ["PageBlueprint", "current_principal", "current_user", "init_app", "login_required",
           "render_error"]


def init_app(app: Flask) -> None:
    """Sessions, CSRF, the sign-in lock-out and the base pages (sign-in, layout, static)."""
    config = app.config
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = not is_embedded(config)
    config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                  PERMANENT_SESSION_LIFETIME=config["WEB_IDLE_TIMEOUT_S"],
                  WTF_CSRF_CHECK_DEFAULT=False,  # only page blueprints check (the API never)
                  WTF_CSRF_TIME_LIMIT=None)  # valid as long as the session is
    csrf.init_app(app)
    app.extensions["web_redis"] = client = redis.Redis.from_url(
        config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    app.extensions["signin_lockout"] = SignInLockout(client, config["SECRET_KEY"], Limits(
        config["SIGNIN_MAX_FAILURES_ACCOUNT"], config["SIGNIN_MAX_FAILURES_ADDRESS"],
        config["SIGNIN_LOCKOUT_WINDOW_S"]))
    app.jinja_env.globals.update(t=texts.t, presence_label=texts.presence_label)

    @app.errorhandler(NotFound)
    def _not_found(error):
        """An unknown address: a page for people, problem+json under the API."""
        if request.path.startswith(config["OPENAPI_URL_PREFIX"] + "/"):
            return handle_http_exception(error)
        return security_headers(app.make_response(render_error(404)))

    @app.errorhandler(CSRFError)
    def _csrf_refused(_error):
        _discard_changes()
        return security_headers(app.make_response(render_error(403, texts.t("error.csrf"))))

    from citizencenter.web import api_docs, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api_docs.bp)
