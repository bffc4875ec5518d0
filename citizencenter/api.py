"""The flask-smorest Api, its blueprint class and the strict request parser."""

import marshmallow as ma
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser

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
    def handle_http_exception(self, error):
        return handle_http_exception(error)

