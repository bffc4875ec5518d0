import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as cf
from citizencenter.db import utcnow
from citizencenter.knowledge.models import Audience
from citizencenter.pagination import PageArgsSchema, page_schema

_AUDIENCE = validate.OneOf([a.value for a in Audience])
_TAGS = fields.List(cf.SingleLine(validate=validate.Length(min=1, max=40), strip=True),
                    validate=validate.Length(max=20))


class ArticleSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String(metadata={"description": "Markdown, as the owner wrote it"})
    body_html = fields.String(metadata={"description": "The body rendered and sanitised"})
    category = fields.Function(lambda a: a.category.slug if a.category else None)
    department = fields.Function(lambda a: a.department.slug)
    audience = fields.Function(lambda a: a.audience.value)
    tags = fields.List(fields.String())
    review_interval_months = fields.Integer()
    reviewed_at = fields.DateTime()
    review_due_at = fields.DateTime()
    review_overdue = fields.Function(lambda a: a.review_due_at < utcnow())
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    updated_by = fields.String()


class ArticleListSchema(ma.Schema):
    items = fields.List(fields.Nested(ArticleSchema))


class ArticleUpdateSchema(ma.Schema):
    title = cf.SingleLine(validate=validate.Length(min=1, max=200), strip=True)
    body = cf.Text(validate=validate.Length(min=1, max=100_000), strip=True)
    category = cf.slug(allow_none=True)
    department = cf.slug()
    audience = fields.String(validate=_AUDIENCE)
    tags = _TAGS
    review_interval_months = fields.Integer(validate=validate.Range(min=1, max=60))

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Name at least one field to change.")


class ArticleCreateSchema(ArticleUpdateSchema):
    title = cf.SingleLine(required=True, validate=validate.Length(min=1, max=200), strip=True)
    body = cf.Text(required=True, validate=validate.Length(min=1, max=100_000), strip=True)
    department = cf.slug(required=True)
    audience = fields.String(required=True, validate=_AUDIENCE)


class ArticleQueryArgsSchema(ma.Schema):
    overdue = fields.Boolean(metadata={"description": "Only articles past (or within) their "
                                                      "review date"})
    department = cf.slug()
    category = cf.slug()
    audience = fields.String(validate=_AUDIENCE)


class VersionSchema(ma.Schema):
    version = fields.Integer()
    title = fields.String()
    body = fields.String()
    category = fields.String(allow_none=True)
    department = fields.String()
    audience = fields.String()
    tags = fields.List(fields.String())
    changed_fields = fields.List(fields.String())
    changed_by = fields.String()
    changed_at = fields.DateTime()


class VersionListSchema(ma.Schema):
    items = fields.List(fields.Nested(VersionSchema))


class ProposalCreateSchema(ma.Schema):
    note = cf.Text(required=True, validate=validate.Length(min=1, max=5000), strip=True)


class ProposalSchema(ma.Schema):
    id = fields.Integer()
    article_id = fields.Integer()
    article_title = fields.Function(lambda p: p.article.title)
    department = fields.Function(lambda p: p.article.department.slug)
    article_version = fields.Integer(metadata={"description": "The version it was made on"})
    note = fields.String()
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    notified_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the owning department was mailed"})
    outcome = fields.String(allow_none=True, metadata={
        "description": "changed or declined, once the owner has answered"})
    handled_by = fields.String(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)


class ProposalListArgsSchema(ma.Schema):
    view = fields.String(load_default="to-handle", validate=validate.OneOf(["to-handle", "mine"]),
                         metadata={"description": "to-handle: those waiting for the caller's "
                                   "answer, oldest first (owners); mine: the caller's own"})


class ProposalAnswerSchema(ma.Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["changed", "declined"]))


class ProposalListSchema(ma.Schema):
    items = fields.List(fields.Nested(ProposalSchema))


class SearchArgsSchema(ma.Schema):
    q = cf.SingleLine(required=True, validate=validate.Length(min=1, max=200), strip=True)
    limit = fields.Integer(validate=validate.Range(min=1, max=50), load_default=10)


class ArticleSummarySchema(ArticleSchema):
    class Meta:
        fields = ("id", "title", "category", "department", "audience", "tags", "review_overdue")


class SearchHitSchema(ma.Schema):
    article = fields.Nested(ArticleSummarySchema)
    score = fields.Float()
    title_html = fields.String(metadata={"description": "The title, matches in <mark>"})
    snippet_html = fields.String(metadata={"description": "Body text around the first "
                                                          "match, matches in <mark>"})


class SearchResultSchema(ma.Schema):
    items = fields.List(fields.Nested(SearchHitSchema))


class PublicArticleSchema(ma.Schema):
    """What the website may show: no owner's notes, reviews or who changed what."""

    id = fields.Integer()
    title = fields.String()
    body_html = fields.String(metadata={"description": "The body rendered and sanitised"})
    category = fields.Function(lambda a: a.category.slug if a.category else None)
    tags = fields.List(fields.String())
    updated_at = fields.DateTime()


class PublicArticleSummarySchema(PublicArticleSchema):
    class Meta:
        fields = ("id", "title", "category", "tags", "updated_at")


class PublicListArgsSchema(PageArgsSchema):
    category = cf.slug()


class PublicSearchHitSchema(ma.Schema):
    article = fields.Nested(PublicArticleSummarySchema)
    title_html = fields.String(metadata={"description": "The title, matches in <mark>"})
    snippet_html = fields.String(metadata={"description": "Body text around the first "
                                                          "match, matches in <mark>"})


class PublicSearchResultSchema(ma.Schema):
    items = fields.List(fields.Nested(PublicSearchHitSchema))


PublicArticlePageSchema = page_schema(PublicArticleSummarySchema, "PublicArticlePage")
