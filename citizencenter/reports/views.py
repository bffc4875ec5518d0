from flask import Response, current_app, request
from flask.views import MethodView

from citizencenter import db, openapi
from citizencenter.api import Blueprint
from citizencenter.auth import require_scope
from citizencenter.reports import export, service_measurement, settings, telephony
from citizencenter.reports.schemas import ServiceMeasurementArgsSchema, TelephonyArgsSchema
from citizencenter.reports.telephony import TelephonyParams

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Service-level figures for any period")

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
