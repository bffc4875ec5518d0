from flask import Response, current_app, request
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import require_scope
from citizencenter.reports import service
from citizencenter.reports.schemas import (
    ServiceMeasurementArgsSchema,
    ServiceMeasurementSchema,
    TelephonyArgsSchema,
    TelephonyReportSchema,
)

# The CSV form of a report (format=csv or Accept: text/csv), beside the schema's JSON.
CSV = {"type": "string"}

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Service-level figures for any period")


def _wants_csv(args: dict) -> bool:
    return args.get("format") == "csv" or ("format" not in args and request.accept_mimetypes
                                           .best_match(["application/json", "text/csv"])
                                           == "text/csv")


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/telephony")
class Telephony(MethodView):
    @require_scope("reports:read")
    @blp.arguments(TelephonyArgsSchema, location="query")
    @blp.response(200, TelephonyReportSchema)
    @blp.alt_response(200, schema=CSV, content_type="text/csv", success=True)
    def get(self, args):
        """Offered, answered, abandoned, service level, ASA, AHT, transfer and direct-answer
        rates per queue and hour or day (JSON, or CSV with format=csv or Accept: text/csv)"""
        report = service.telephony_report(db.session, args["from_"], args["to"],
                                          current_app.config, queue=args.get("queue"),
                                          interval=args.get("interval"),
                                          formula=args.get("formula"))
        if _wants_csv(args):
            return _csv(service.telephony_csv(report), "telefoni.csv")
        return report


@blp.route("/service-measurement")
class ServiceMeasurement(MethodView):
    @require_scope("reports:read")
    @blp.arguments(ServiceMeasurementArgsSchema, location="query")
    @blp.response(200, ServiceMeasurementSchema)
    @blp.alt_response(200, schema=CSV, content_type="text/csv", success=True)
    def get(self, args):
        """Every figure of the service measurement per channel and overall, against targets
        (JSON, or CSV with format=csv or Accept: text/csv)"""
        report = service.service_measurement(
            db.session, args["from_"], args["to"], service.report_settings(current_app.config),
            channel=args.get("channel"), queue=args.get("queue"),
            department=args.get("department"), interval=args.get("interval"),
            group_by=args.get("group_by"))
        if _wants_csv(args):
            return _csv(service.service_measurement_csv(report), "servicematning.csv")
        return report
