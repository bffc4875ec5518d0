"""The citizen's page, /mitt-arende/<token>: public, no account, no session.

Its form is protected by a CSRF token bound to the link (service.form_token), not by the
staff pages' session. The token in the path never reaches a log line (logs masks it) nor
another site (Referrer-Policy: no-referrer).
"""

import hashlib
import logging

import redis
from flask import Blueprint, current_app, redirect, render_template, request

from citizencenter import db, keys, redis_pool
from citizencenter.citizen_view import links, service
from citizencenter.config import local_zone
from citizencenter.errors import AppError, InvalidInput
from citizencenter.web import texts

log = logging.getLogger(__name__)
bp = Blueprint("citizen_view", __name__, template_folder="templates")

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link is the key: never sent to another site
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
RATE_WINDOW_S = 3600


class TooManyMessages(AppError):
    status, title, slug = 429, "Too many messages", "citizen-messages-limited"


@bp.after_request
def _headers(response):
    response.headers.update(HEADERS)
    return response


def _page(token: str, status: int = 200, error: str | None = None, text: str = "",
          sent: bool = False):
    config = current_app.config
    shown = service.view(db.session, config, token)
    return render_template(
        "citizen_view/case.html", view=shown, form_token=service.form_token(config, token),
        error=error, text=text, sent=sent, max_length=service.MAX_MESSAGE_LENGTH,
        action=request.path, local=lambda moment: moment.astimezone(local_zone())), status


@bp.get("/mitt-arende/<token>")
def case_page(token: str):
    return _page(token, sent=request.args.get("skickat") == "1")


@bp.post("/mitt-arende/<token>")
def add_message(token: str):
    config = current_app.config
    case_id, _ = links.read_token(config, token)
    _limit(f"case:{case_id}", config["CITIZEN_MESSAGE_RATE_LIMIT"])
    _limit(f"address:{request.remote_addr or 'unknown'}",
           3 * config["CITIZEN_MESSAGE_RATE_LIMIT"])
    text = request.form.get("message", "")
    try:
        service.add_message(db.session, config, token, text, request.form.get("form_token"))
    except InvalidInput as error:
        db.session.rollback()
        return _page(token, 422, error.errors[0]["message"], text[:service.MAX_MESSAGE_LENGTH])
    return redirect(f"{request.path}?skickat=1", 303)


def _limit(what: str, limit: int) -> None:
    """A fixed window per case and per address; open when Redis is down (a citizen's
    message matters more than a little spam)."""
    digest = hashlib.sha256(keys.for_purpose(current_app.config, "ratelimit-hash")
                            + what.encode()).hexdigest()[:32]
    key = f"citizencenter:citizen-view:rate:{digest}"
    try:
        client = redis_pool.client(current_app.config["REDIS_URL"])
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.expire(key, RATE_WINDOW_S, nx=True)
        count = pipe.execute()[0]
    except redis.RedisError as exc:
        log.warning("citizen view: rate limit not applied, Redis unavailable: %s",
                    type(exc).__name__)
        return
    if count > limit:
        raise TooManyMessages(texts.t("citizen.limited"))


@bp.errorhandler(links.LinkInvalid)
@bp.errorhandler(links.LinkGone)
@bp.errorhandler(service.FormExpired)
@bp.errorhandler(TooManyMessages)
def refused(error: AppError):
    db.session.rollback()
    title = {404: "citizen.invalid.title", 410: "citizen.gone.title"}.get(
        error.status, "citizen.error")
    return render_template("citizen_view/refused.html", title=texts.t(title),
                           reason=error.detail), error.status
