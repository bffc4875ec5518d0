from datetime import date, datetime

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import require_scope
from citizencenter.reports import telephony
from citizencenter.reports.telephony import FORMULAS, TelephonyParams, local_bounds

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Service-level figures for any period")

MAX_DAYS = {"hour": 62, "day": 400, None: 400}


class Moment(fields.Field):
    """A date (a whole Stockholm day) or a timezone-aware date-time."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Give a date or a date-time.")
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError("Not an ISO 8601 date or date-time.") from None
        if moment.tzinfo is None:
            raise ma.ValidationError("A date-time needs a timezone offset.")
        return moment


class TelephonyArgsSchema(ma.Schema):
    from_ = Moment(data_key="from", required=True,
                   metadata={"type": "string", "example": "2026-11-01"})
    to = Moment(required=True, metadata={"type": "string",
                                         "description": "Exclusive; a date means its start"})
    queue = fields.String(validate=validate.Length(max=64))
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
