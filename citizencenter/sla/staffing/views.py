from flask import current_app
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import require_scope
from citizencenter.sla.staffing import coverage as staffing_coverage
from citizencenter.sla.staffing import service as staffing
from citizencenter.sla.staffing.schemas import (
    CoverageArgsSchema,
    CoverageSchema,
    ErlangCRequestSchema,
    ErlangCSchema,
    ForecastArgsSchema,
    ForecastSchema,
)

blp = Blueprint("staffing", __name__, url_prefix="/api/v1/staffing",
                description="How many guides the phone queue needs (Erlang C)")


@blp.route("/erlang-c")
class ErlangC(MethodView):
    @require_scope("reports:read")
    @blp.arguments(ErlangCRequestSchema)
    @blp.response(200, ErlangCSchema)
    def post(self, data):
        """Guides needed for a service level, with the expected level and ASA"""
        return staffing.erlang_c_plan(**data)


@blp.route("/forecast")
class Forecast(MethodView):
    @require_scope("reports:read")
    @blp.arguments(ForecastArgsSchema, location="query")
    @blp.response(200, ForecastSchema)
    def get(self, args):
        """Mean calls per weekday and hour over recent weeks, from the calls table"""
        return staffing.forecast_calls(db.session, timezone=current_app.config["TIMEZONE"],
                                       **args)


@blp.route("/coverage")
class Coverage(MethodView):
    @require_scope("reports:read")
    @blp.arguments(CoverageArgsSchema, location="query")
    @blp.response(200, CoverageSchema)
    def get(self, args):
        """Guides needed per weekday and hour (forecast, Erlang C) beside the guides staffed
        then (presence history); understaffed hours marked"""
        return staffing_coverage.coverage(db.session, timezone=current_app.config["TIMEZONE"],
                                          **args)
