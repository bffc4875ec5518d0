from datetime import date, datetime

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import fields, validate

from citizencenter import db, openapi
from citizencenter import fields as checked
from citizencenter.api import Blueprint
from citizencenter.auth import require_scope
from citizencenter.reports import export, service_measurement, settings, telephony
from citizencenter.reports.schemas import Moment, ServiceMeasurementArgsSchema
from citizencenter.reports.telephony import FORMULAS, TelephonyParams, local_bounds

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Service-level figures for any period")

MAX_DAYS = {"hour": 62, "day": 400, None: 400}


class TelephonyArgsSchema(ma.Schema):
    from_ = Moment(data_key="from", required=True,
                   metadata={"type": "string", "example": "2026-11-01"})
    to = Moment(required=True, metadata={"type": "string",
                                         "description": "Exclusive; a date means its start"})
    queue = checked.Token(validate=validate.Length(max=64))
    interval = fields.String(validate=validate.OneOf(["hour", "day"]))
    formula = fields.String(validate=validate.OneOf(sorted(FORMULAS)))

    @ma.post_load
    def to_datetimes(self, data, **kwargs):
        start, end = data["from_"], data["to"]
        if isinstance(start, date) and not isinstance(start, datetime):
            start = local_bounds(start, start)[0]
        if isinstance(end, date) and not isinstance(end, datetime):
            end = local_bounds(end, end)[0]
        if end <= start:
            raise ma.ValidationError("from must be before to.", "from")
        if (end - start).days > MAX_DAYS[data.get("interval")]:
            raise ma.ValidationError(
                f"At most {MAX_DAYS[data.get('interval')]} days with this interval.", "to")
        data["from_"], data["to"] = start, end
        return data


@blp.route("/telephony")
class Telephony(MethodView):
    @require_scope("reports:read")
    @blp.arguments(TelephonyArgsSchema, location="query")
    @blp.response(200)
    @blp.doc(**openapi.answers("application/json"))
    def get(self, args):
        """Offered, answered, abandoned, service level, ASA, AHT, transfer and direct-answer
        rates per queue and hour or day"""
        config = current_app.config
        params = TelephonyParams(
            short_abandon_s=config["PHONE_SHORT_ABANDON_S"],
            thresholds_s=config["PHONE_SERVICE_LEVEL_THRESHOLDS_S"],
            direct_answer_s=config["PHONE_DIRECT_ANSWER_S"],
            formula=args.get("formula", config["PHONE_SERVICE_LEVEL_FORMULA"]))
        return telephony.telephony_report(db.session, args["from_"], args["to"],
                                          queue=args.get("queue"),
                                          interval=args.get("interval"), params=params)


@blp.route("/service-measurement")
class ServiceMeasurement(MethodView):
    @require_scope("reports:read")
    @blp.arguments(ServiceMeasurementArgsSchema, location="query")
    @blp.response(200)
    @blp.doc(**openapi.answers("application/json", "text/csv"))
    def get(self, args):
        """Every figure of the service measurement per channel and overall, against targets
        (JSON, or CSV with format=csv or Accept: text/csv)"""
        report = service_measurement.service_measurement(
            db.session, args["from_"], args["to"], settings.report_settings(current_app.config),
            channel=args.get("channel"), queue=args.get("queue"),
            department=args.get("department"), interval=args.get("interval"))
        wants_csv = args.get("format") == "csv" or (
            "format" not in args and request.accept_mimetypes.best_match(
                ["application/json", "text/csv"]) == "text/csv")
        if wants_csv:
            return Response(export.service_measurement_csv(report), mimetype="text/csv",
                            headers={"Content-Disposition":
                                     'attachment; filename="servicematning.csv"'})
        return report
