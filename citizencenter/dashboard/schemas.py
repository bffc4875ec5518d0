"""The live snapshot as the wallboard reads it; every key the service returns is declared."""

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter.reports.schemas import Number


def _moment(description: str, allow_none: bool = True) -> fields.String:
    return fields.String(allow_none=allow_none,
                         metadata={"format": "date-time", "description": description})


class GuideCountsSchema(ma.Schema):
    available = fields.Integer()
    busy = fields.Integer()
    away = fields.Integer()
    offline = fields.Integer()


class EmailBacklogSchema(ma.Schema):
    count = fields.Integer(metadata={"description": "Inquiries by e-mail without a reply"})
    oldest_received_at = _moment("null without a backlog")
    oldest_wait_seconds = Number(allow_none=True)


class LiveSnapshotSchema(ma.Schema):
    at = _moment("When the figures were computed", allow_none=False)
    calls_waiting = fields.Integer()
    longest_wait_since = _moment("null without a waiting call")
    longest_wait_seconds = Number(allow_none=True)
    guides = fields.Nested(GuideCountsSchema, metadata={"description": "Guides by presence"})
    guides_source = fields.String(validate=validate.OneOf(["routing", "unavailable"]))
    today = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(),
                                                 values=Number(allow_none=True)),
        metadata={"description": "Today's figures by channel and name; null without data"})
    email_backlog = fields.Nested(EmailBacklogSchema)
    failed_outgoing_today = fields.Integer(
        metadata={"description": "Replies and receipts given up today after their last retry"})
    breaches_today = fields.Integer(allow_none=True)
    breaches_source = fields.String(validate=validate.OneOf(["sla_ledger", "unavailable"]))
    source = fields.String(validate=validate.OneOf(["redis", "database"]))
