import re
from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter.pagination import PageArgsSchema, page_schema

# Where converting a moment to UTC for the query can neither underflow nor overflow.
MOMENTS = validate.Range(min=datetime(1900, 1, 1, tzinfo=UTC),
                         max=datetime(3000, 1, 1, tzinfo=UTC))
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def no_controls(value: str) -> None:
    if CONTROL.search(value):
        raise ma.ValidationError("Contains a control character.")


def _token(length: int, description: str) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=length), no_controls],
                         metadata={"description": description})


class AuditQueryArgsSchema(PageArgsSchema):
    actor = _token(64, 'Who acted: "user:3", "token:7", "system" or "cli".')
    case = fields.UUID(metadata={"description": "Entries about this case (its reads too)."})
    action = _token(64, 'E.g. "case.read", "token.created", "sla_policy.changed".')
    entity_type = _token(32, 'E.g. "case", "token", "routing_rule", "sla_policy".')
    entity_id = _token(64, "The entity's id or slug; with entity_type.")
    from_ = fields.AwareDateTime(data_key="from", attribute="from", validate=MOMENTS,
                                 metadata={"description": "From this moment on."})
    to = fields.AwareDateTime(validate=MOMENTS, metadata={"description": "Before this moment."})

    @ma.validates_schema
    def range_in_order(self, data, **kwargs):
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise ma.ValidationError("from is after to.", "from")


class AuditEntrySchema(ma.Schema):
    id = fields.Integer()
    occurred_at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String()
    data = fields.Dict(metadata={"description": "Old and new values of a change; which view "
                                 "of a case was read. Never secrets or personal data."})


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
