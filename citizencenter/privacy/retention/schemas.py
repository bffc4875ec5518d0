"""Retention rules, legal holds and the plan, as the API reads and writes them."""

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import Channel

KEEP_MONTHS = validate.Range(min=1, max=1200)  # up to a hundred years


class RetentionRuleChangeSchema(checked.ChangeSchema):
    """A rule change: at least one field."""

    category = checked.slug(allow_none=True, metadata={
        "description": "A category slug; null: every category."})
    channel = fields.Enum(Channel, by_value=True, allow_none=True,
                          metadata={"description": "null: every channel."})
    keep_months = fields.Integer(strict=True, validate=KEEP_MONTHS, metadata={
        "description": "Months after the case closed before its content is erased."})


class RetentionRuleCreateSchema(ma.Schema):
    category = checked.slug(allow_none=True, load_default=None)
    channel = fields.Enum(Channel, by_value=True, allow_none=True, load_default=None)
    keep_months = fields.Integer(strict=True, required=True, validate=KEEP_MONTHS)


class RetentionRuleSchema(ma.Schema):
    id = fields.Integer()
    category = fields.Function(lambda rule: rule.category.slug if rule.category else None,
                               metadata={"type": "string", "nullable": True})
    channel = fields.String(allow_none=True)
    keep_months = fields.Integer()
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class RetentionRuleListSchema(ma.Schema):
    items = fields.List(fields.Nested(RetentionRuleSchema), required=True)


class LegalHoldCreateSchema(ma.Schema):
    case_id = fields.UUID(metadata={"description": "The case held; or give contact_id."})
    contact_id = checked.Id(strict=True, metadata={
        "description": "The contact whose cases are held."})
    reason = checked.SingleLine(required=True, validate=validate.Length(min=1, max=300))

    @ma.validates_schema
    def one_target(self, data, **kwargs):
        if ("case_id" in data) == ("contact_id" in data):
            raise ma.ValidationError("Give case_id or contact_id, not both.", "case_id")


class LegalHoldSchema(ma.Schema):
    id = fields.Integer()
    case_id = fields.UUID(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    reason = fields.String()
    placed_by = fields.String()
    placed_at = fields.AwareDateTime()
    released_by = fields.String(allow_none=True)
    released_at = fields.AwareDateTime(allow_none=True)
    active = fields.Function(lambda hold: hold.released_at is None,
                             metadata={"type": "boolean"})


class LegalHoldListSchema(ma.Schema):
    items = fields.List(fields.Nested(LegalHoldSchema), required=True)


class LegalHoldQueryArgsSchema(ma.Schema):
    active = fields.Boolean(metadata={"description": "true: holds in force; false: released."})


class RetentionPlanRuleSchema(ma.Schema):
    rule_id = fields.Integer()
    category = fields.String(allow_none=True)
    channel = fields.String(allow_none=True)
    keep_months = fields.Integer()
    closed_before = fields.AwareDateTime()
    count = fields.Integer(metadata={"description": "Cases the next run would erase."})
    held = fields.Integer(metadata={"description": "Cases due but under a legal hold."})
    references = fields.List(fields.String(), metadata={
        "description": "Their references, oldest first (at most 1000)."})


class RetentionPlanSchema(ma.Schema):
    as_of = fields.AwareDateTime()
    total = fields.Integer()
    rules = fields.List(fields.Nested(RetentionPlanRuleSchema))
