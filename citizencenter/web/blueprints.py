"""`PageBlueprint`: what every blueprint of pages shares (CSRF, CSP, errors as pages)."""

from flask import Blueprint, render_template
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from citizencenter.errors import AppError, _discard_changes
from citizencenter.web import texts

csrf = CSRFProtect()

# Pages load only this site's own scripts, styles, images and fonts; nothing inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'")


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def render_error(status: int, message: str | None = None):
    """An error page (base layout, Swedish text for the status) and its status code."""
    return render_template("error.html", status=status,
                           message=message or texts.error_text(status)), status


def _app_error_page(error: AppError):
    _discard_changes()
    return render_error(error.status)


def _stale_page(_error: StaleDataError):
    _discard_changes()
    return render_error(409)


def _http_error_page(error: HTTPException):
    return render_error(error.code or 500)


class PageBlueprint(Blueprint):
    """A blueprint of pages: CSRF-checked, CSP-headed, errors as pages (not problem+json)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(csrf.protect)  # safe methods pass; POST/PUT/… need the token
        self.after_request(security_headers)
        self.register_error_handler(AppError, _app_error_page)
        self.register_error_handler(HTTPException, _http_error_page)
        self.register_error_handler(StaleDataError, _stale_page)
