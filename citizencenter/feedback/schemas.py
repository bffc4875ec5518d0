import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import Channel
from citizencenter.pagination import PageArgsSchema, page_schema


class FeedbackSchema(ma.Schema):
    id = fields.Integer()
    case_id = fields.UUID()
    channel = fields.String()
    courtesy = fields.Integer(metadata={"description": "bemötande, 1–5"})
    ease = fields.Integer(metadata={"description": "1–5"})
    clarity = fields.Integer(metadata={"description": "1–5"})
    submitted_at = fields.DateTime()


FeedbackPageSchema = page_schema(FeedbackSchema, "FeedbackPage")


class FeedbackQueryArgsSchema(PageArgsSchema):
    received_from = checked.AwareDateTime(data_key="from")
    received_to = checked.AwareDateTime(data_key="to")
    channel = fields.String(validate=validate.OneOf([c.value for c in Channel]))
