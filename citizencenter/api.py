"""The flask-smorest Api, its blueprint class and the strict request parser."""

import marshmallow as ma
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser

from citizencenter import openapi
from citizencenter.errors import AppError, handle_http_exception


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


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
        return super()._raw_load_json(req)


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()


class Api(SmorestApi):
    ERROR_SCHEMA = openapi.ProblemSchema

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()),
                                        openapi.ProblemResponsesPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self):
        openapi.register_error_responses(self)

    def handle_http_exception(self, error):
        return handle_http_exception(error)

