"""Open311 GeoReport v2 under /open311/v2/: JSON or XML by suffix or `format`."""

import marshmallow as ma
from flask import Blueprint, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from citizencenter import db
from citizencenter.channels.open311 import rendering, schemas, service
from citizencenter.channels.webform.ratelimit import SlidingWindowLimiter, app_limiter
from citizencenter.citizen_view import links
from citizencenter.errors import AppError, _discard_changes, flatten_messages

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMAT = "<any(json,xml):fmt>"


def _format(fmt: str | None) -> str:
    chosen = fmt or request.values.get("format") or "json"
    if chosen not in ("json", "xml"):
        raise service.Open311Error("format: use json or xml.")
    return chosen


def _answer(root: str, data, fmt: str | None, status: int = 200) -> Response:
    if _format(fmt) == "xml":
        return Response(rendering.to_xml(root, data), status, mimetype="text/xml")
    return Response(json.dumps(data), status, mimetype="application/json")


def _split(value: str) -> tuple[str, str | None]:
    """`MC-2026-000001.xml` → (`MC-2026-000001`, `xml`): the suffix names the format."""
    stem, dot, suffix = value.rpartition(".")
    return (stem, suffix) if dot and suffix in ("json", "xml") else (value, None)


@bp.before_request
def _jurisdiction():
    service.check_jurisdiction(request.values.get("jurisdiction_id"),
                               current_app.config["OPEN311_JURISDICTION_ID"])


def _limiter() -> SlidingWindowLimiter:
    return app_limiter(current_app.extensions, current_app.config, "open311")


@bp.get("/services", defaults={"fmt": None})
@bp.get(f"/services.{FORMAT}")
def services(fmt):
    """The published services."""
    return _answer("services", [rendering.service_entry(c)
                                for c in service.services(db.session)], fmt)


@bp.get("/services/<code>")
def service_definition(code):
    """A service's definition: its attributes."""
    code, fmt = _split(code)
    return _answer("service_definition",
                   rendering.definition(service.service(db.session, code)), fmt)


@bp.post("/requests", defaults={"fmt": None})
@bp.post(f"/requests.{FORMAT}")
def post_request(fmt):
    """Report a service request with the app's api_key; it becomes a case."""
    _format(fmt)
    app = service.authorize(db.session, request.form.get("api_key"))
    config = current_app.config
    _limiter().hit(f"token:{app.token_id}", config["OPEN311_RATE_LIMIT"],
                   config["OPEN311_RATE_WINDOW_S"])
    fields, attributes = schemas.load_service_request(request.form)
    created = service.submit_request(db.session, app, fields, attributes)
    link = links.link_for_case(current_app.config, created.case_id)
    return _answer("service_requests", [rendering.receipt(created, link)], fmt, 201)


@bp.get("/requests", defaults={"fmt": None})
@bp.get(f"/requests.{FORMAT}")
def requests(fmt):
    """Requests by id list, or by service code, status and date range (90 days by default)."""
    found = service.find_requests(db.session, **schemas.load_request_query(request.args))
    return _answer("service_requests", [rendering.request_entry(r) for r in found], fmt)


@bp.get("/requests/<reference>")
def request_by_id(reference):
    """One request by its service_request_id (the case reference)."""
    reference, fmt = _split(reference)
    return _answer("service_requests",
                   [rendering.request_entry(service.request_by_reference(db.session,
                                                                         reference))], fmt)


@bp.get("/tokens/<token>")
def request_by_token(token):
    """The service_request_id a token stands for."""
    token, fmt = _split(token)
    return _answer("service_requests",
                   [rendering.token_entry(service.request_by_token(db.session, token))], fmt)


def _errors(status: int, description: str, headers: dict | None = None) -> Response:
    """The spec's error list, in the format asked for (JSON when that is unclear)."""
    _discard_changes()
    args = request.view_args or {}
    fmt = args.get("fmt") or next((_split(v)[1] for v in args.values()
                                   if isinstance(v, str) and _split(v)[1]), None)
    if fmt is None and request.values.get("format") in ("json", "xml"):
        fmt = request.values["format"]
    body = rendering.error_entries(status, description)
    response = Response(rendering.to_xml("errors", body), status, mimetype="text/xml") \
        if fmt == "xml" else Response(json.dumps(body), status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


@bp.errorhandler(AppError)
def _app_error(error: AppError):
    # Invalid input is 400 in the spec's list; the rest keeps its status (403, 404, 429).
    return _errors(400 if error.status == 422 else error.status, error.detail, error.headers)


@bp.errorhandler(ma.ValidationError)
def _invalid(error: ma.ValidationError):
    first = next(iter(flatten_messages(error.messages)))
    return _errors(400, f"{first['field']}: {first['message']}")


@bp.errorhandler(HTTPException)
def _http(error: HTTPException):
    return _errors(error.code or 500, error.description or error.name)
