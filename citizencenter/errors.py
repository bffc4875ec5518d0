"""Domain errors and the one handler that renders every error as RFC 9457 problem+json."""

import contextlib
import logging
from collections.abc import Iterable

from flask import Flask, Response, json
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from citizencenter import db

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://citizencenter.example/problems/"


class AppError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str | None = None, *, errors: list[dict] | None = None,
                 headers: dict | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}


class NotFound(AppError):
    status, title, slug = 404, "Not found", "not-found"


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="citizencenter"'})


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidTransition(Conflict):
    title, slug = "Invalid status transition", "invalid-transition"


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class PreconditionFailed(AppError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PreconditionRequired(AppError):
    status, title, slug = 428, "Precondition required", "precondition-required"


class InvalidInput(AppError):
    status, title, slug = 422, "Invalid input", "invalid-input"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}", errors=[{"field": field, "message": message}])


class ValidationFailed(AppError):
    status, title, slug = 422, "Invalid input", "invalid-input"

    def __init__(self, messages, location: str = "json"):
        errors = [{**entry, "location": location} for entry in flatten_messages(messages)]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        super().__init__(f"Invalid {fields}.", errors=errors)


class IdempotencyKeyReused(AppError):
    status, title, slug = 422, "Idempotency key reused", "idempotency-key-reused"


class IdempotencyKeyInFlight(Conflict):
    title, slug = "Request with this idempotency key in progress", "idempotency-key-in-flight"


def problem(status: int, title: str, detail: str, *, slug: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None) -> Response:
    body = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages, prefix: str = "") -> Iterable[dict]:
    """Turn marshmallow's nested messages into one entry per dotted field path."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield from flatten_messages(value, path)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield {"field": prefix or "_schema", "message": message}
    elif isinstance(messages, list):
        for item in messages:
            yield from flatten_messages(item, prefix)
    else:
        yield {"field": prefix or "_schema", "message": str(messages)}


def handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if messages:
        # webargs nests by location ("json", "query"); the location is not part of the field.
        errors = []
        for location, fields in messages.items() if isinstance(messages, dict) else []:
            for entry in flatten_messages(fields):
                errors.append({**entry, "location": location})
        if error.code == 400 and any(e["location"] == "json" for e in errors):
            detail = "The request body is not valid JSON."
        else:
            detail = "Invalid " + ", ".join(sorted({e["field"] for e in errors})) + "."
        return problem(error.code, error.name, detail, slug="invalid-input"
                       if error.code == 422 else None, errors=errors, headers=headers)
    return problem(error.code or 500, error.name, error.description or error.name,
                   headers=headers)


def _discard_changes() -> None:
    """An error changes nothing: drop what the request flushed before it failed."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()


def handle_app_error(error: AppError) -> Response:
    _discard_changes()
    return problem(error.status, error.title, error.detail, slug=error.slug,
                   errors=error.errors, headers=error.headers)


def handle_stale(error: StaleDataError) -> Response:
    """Another transaction changed the row between this request's read and its write (a
    worker routing the case, say): nothing was saved, and the same request may be sent
    again. Services with an If-Match answer 412 themselves."""
    _discard_changes()
    return problem(409, "Conflict", "The data changed while this request was saved; "
                   "nothing was saved. Send the request again.", slug="conflict")


def handle_database_error(error: DBAPIError) -> Response:
    """A lost connection (a server restart or failover) is worth a retry: the pool has
    replaced it by then. Any other database error is unexpected."""
    if not error.connection_invalidated:
        return handle_unexpected(error)
    log.warning("the database connection was lost; answered 503")
    _discard_changes()
    return problem(503, "Service unavailable", "The connection to the database was lost and "
                   "the request may not have been saved. Send it again (a POST with the same "
                   "Idempotency-Key).", slug="database-connection-lost",
                   headers={"Retry-After": "1"})


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    _discard_changes()
    return problem(500, "Internal server error", "The server failed to handle the request.")


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
