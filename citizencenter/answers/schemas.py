import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.answers.filling import FIELDS, FILTERS
from citizencenter.cases.enums import Channel
from citizencenter.cases.schemas import MAX_BODY
from citizencenter.pagination import PageArgsSchema, page_schema

BODY_HELP = (f"Text with fields filled per case: {', '.join(FIELDS)}, written "
             f"{{{{ field }}}} or {{{{ field | filter }}}} with a filter of "
             f"{', '.join(FILTERS)}. Anything else (attributes, items, calls, statements, "
             f"other names) is refused with 422.")


class TemplateCreateSchema(ma.Schema):
    name = checked.SingleLine(required=True, validate=validate.Length(min=1, max=200))
    body = checked.Text(required=True, validate=validate.Length(min=1, max=MAX_BODY),
                        metadata={"description": BODY_HELP})
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    category = checked.slug(allow_none=True)
    active = fields.Boolean()


class TemplateChangeSchema(checked.ChangeSchema, TemplateCreateSchema):
    name = checked.SingleLine(validate=validate.Length(min=1, max=200))
    body = checked.Text(validate=validate.Length(min=1, max=MAX_BODY),
                        metadata={"description": BODY_HELP})


class TemplateSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    body = fields.String()
    channel = fields.Enum(Channel, by_value=True, allow_none=True)
    category = fields.Function(lambda t: t.category.slug if t.category else None,
                               metadata={"type": "string", "nullable": True})
    active = fields.Boolean()
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class TemplateQueryArgsSchema(PageArgsSchema):
    channel = fields.Enum(Channel, by_value=True)
    category = checked.slug()
    active = fields.Boolean()


class PreviewSchema(ma.Schema):
    template_id = fields.Integer()
    name = fields.String()
    body = fields.String(metadata={"description": "The template filled for the case."})


class TemplateReplySchema(ma.Schema):
    body = checked.Text(validate=validate.Length(min=1, max=MAX_BODY), metadata={
        "description": "The guide's edit of the filled text; left out, the filled text."})


TemplatePageSchema = page_schema(TemplateSchema, "AnswerTemplatePage")
