"""The flask-smorest Api, its blueprint class and the strict request parser."""

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from citizencenter import json_input, openapi
from citizencenter.errors import PreconditionFailed, UnsupportedMediaType, handle_http_exception
from citizencenter.fields import ANY_CONTROL, INT32_MAX
from citizencenter.pagination import Paginator


class StrictParser(FlaskParser):
    """Rejects unknown query parameters too, and non-JSON bodies where JSON is expected."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _raw_load_json(self, req):
        if req.get_data(cache=True) and not core.is_json(req.mimetype):
            raise UnsupportedMediaType("Send the body as application/json.")
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            raise json_input.too_deep() from None
        if data is not core.missing:
            json_input.check(data)
        return data

    def load_querystring(self, req, schema):
        json_input.check(req.args.to_dict(flat=False), "query")
        return super().load_querystring(req, schema)


class IdConverter(IntegerConverter):
    """`<int:…>` paths: a positive 32-bit id, so a huge number is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


class PlainConverter(UnicodeConverter):
    """`<slug>` paths: no control characters (a NUL fails on PostgreSQL)."""

    def to_python(self, value: str) -> str:
        if ANY_CONTROL.search(value):
            raise ValidationError()
        return value


def paginator() -> Paginator:
    """The app's paginator, for the list views to hand to their service."""
    return current_app.extensions["paginator"]


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one instance of a schema class per route: webargs would
        build one per request (a tenth of a millisecond and more, for nothing)."""
        return super().arguments(schema() if isinstance(schema, type) else schema,
                                 *args, **kwargs)


class Api(SmorestApi):
    ERROR_SCHEMA = openapi.ProblemSchema

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()),
                                        openapi.ProblemResponsesPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self):
        openapi.register_error_responses(self)

    def init_app(self, app, *args, **kwargs):
        for name, converter in (("int", IdConverter), ("default", PlainConverter),
                                ("string", PlainConverter)):
            app.url_map.converters[name] = converter
        super().init_app(app, *args, **kwargs)

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def etag(versioned) -> dict:
    """The ETag header of a row with a version counter (cases, knowledge articles)."""
    return {"ETag": f'"{versioned.version}"'}


def if_match_version() -> int | None:
    """The version an If-Match header names, or None without one; the service decides
    whether a change needs it (428) and whether it is current (412)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise PreconditionFailed("If-Match does not hold an ETag of this API.") from None
