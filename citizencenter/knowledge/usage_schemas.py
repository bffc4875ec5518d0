"""Schemas of what answered a case and of the knowledge report."""

from datetime import datetime, time

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as cf
from citizencenter.config import local_zone

MAX_REPORT_DAYS = 400


class Moment(cf.Moment):
    """A date (the local midnight starting it) or a timezone-aware date-time."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if isinstance(moment, datetime):
            return moment
        return datetime.combine(moment, time(), local_zone())


class ArticleUseCreateSchema(ma.Schema):
    article_id = fields.Integer(required=True, validate=validate.Range(min=1, max=cf.INT32_MAX))


class ArticleUseSchema(ma.Schema):
    article_id = fields.Integer()
    title = fields.String()
    channel = fields.String(metadata={"description": "The case's channel when answered"})
    used_by = fields.String()
    used_at = fields.DateTime()


class TemplateUseSchema(ma.Schema):
    template_id = fields.Integer()
    name = fields.String()
    message_id = fields.Integer(metadata={"description": "The reply sent with it"})
    sent_at = fields.DateTime()


class AnsweredWithSchema(ma.Schema):
    """What answered a case: articles it was marked with, templates its replies used."""

    articles = fields.List(fields.Nested(ArticleUseSchema))
    templates = fields.List(fields.Nested(TemplateUseSchema))


class ReportArgsSchema(ma.Schema):
    from_ = Moment(data_key="from", required=True,
                   metadata={"type": "string", "example": "2026-12-01"})
    to = Moment(required=True, metadata={"type": "string", "example": "2027-01-01",
                                         "description": "Exclusive; a date means its start"})

    @ma.post_load
    def to_datetimes(self, data, **kwargs):
        if data["to"] <= data["from_"]:
            raise ma.ValidationError("to must be after from.", "to")
        if (data["to"] - data["from_"]).days > MAX_REPORT_DAYS:
            raise ma.ValidationError(f"At most {MAX_REPORT_DAYS} days.", "to")
        return data


class _ArticleCount(ma.Schema):
    article_id = fields.Integer()
    title = fields.String()
    uses = fields.Integer()


class _TemplateCount(ma.Schema):
    template_id = fields.Integer()
    name = fields.String()
    uses = fields.Integer()


class _ChannelCount(ma.Schema):
    channel = fields.String()
    cases = fields.Integer()


class _Searches(ma.Schema):
    total = fields.Integer()
    without_results = fields.Integer()


class _MissingAnswer(ma.Schema):
    query = fields.String(metadata={"description": "Folded; queries with personal data "
                                                  "are never kept"})
    searches = fields.Integer()


class KnowledgeReportSchema(ma.Schema):
    from_ = fields.DateTime(data_key="from", attribute="from")
    to = fields.DateTime()
    articles = fields.List(fields.Nested(_ArticleCount),
                           metadata={"description": "Articles by cases marked answered"})
    templates = fields.List(fields.Nested(_TemplateCount),
                            metadata={"description": "Templates by replies sent with them"})
    answered_with_article = fields.List(fields.Nested(_ChannelCount),
                                        metadata={"description": "Cases per channel"})
    searches = fields.Nested(_Searches)
    searches_without_results = fields.List(
        fields.Nested(_MissingAnswer),
        metadata={"description": "The most frequent searches that found nothing"})
