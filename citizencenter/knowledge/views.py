from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, etag, if_match_version
from citizencenter.auth import current_principal, require_scope
from citizencenter.knowledge import service, usage
from citizencenter.knowledge.schemas import (
    ArticleCreateSchema,
    ArticleListSchema,
    ArticleQueryArgsSchema,
    ArticleSchema,
    ArticleUpdateSchema,
    ProposalAnswerSchema,
    ProposalCreateSchema,
    ProposalListArgsSchema,
    ProposalListSchema,
    ProposalSchema,
    SearchArgsSchema,
    SearchResultSchema,
    VersionListSchema,
    VersionSchema,
)
from citizencenter.knowledge.usage_schemas import (
    AnsweredWithSchema,
    ArticleUseCreateSchema,
    ArticleUseSchema,
    KnowledgeReportSchema,
    ReportArgsSchema,
)

blp = Blueprint("knowledge", __name__, url_prefix="/api/v1/knowledge",
                description="The knowledge base (kunskapsbanken): articles and search")
READ, WRITE = "directory:read", "cases:write"


@blp.route("/articles")
class Articles(MethodView):
    @require_scope(READ)
    @blp.arguments(ArticleQueryArgsSchema, location="query")
    @blp.response(200, ArticleListSchema)
    def get(self, args):
        """List articles by title; `overdue=true` lists those past their review date"""
        return {"items": service.list_articles(db.session, current_principal(), **args)}

    @require_scope(WRITE)
    @blp.arguments(ArticleCreateSchema)
    @blp.response(201, ArticleSchema)
    def post(self, data):
        """Write an article (supervisors and the owning department's staff)"""
        article = service.create_article(db.session, current_principal(), **data)
        return article, etag(article)


@blp.route("/articles/<int:article_id>")
class ArticleById(MethodView):
    @require_scope(READ)
    @blp.response(200, ArticleSchema)
    def get(self, article_id: int):
        """Read an article in its current version; its ETag goes in If-Match to change it"""
        article = service.read_article(db.session, current_principal(), article_id)
        return article, etag(article)

    @require_scope(WRITE)
    @blp.arguments(ArticleUpdateSchema)
    @blp.response(200, ArticleSchema)
    @blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": True,
                          "schema": {"type": "string"}}])
    def patch(self, changes, article_id: int):
        """Change an article: a new version, the earlier ones stay readable"""
        article = service.update_article(db.session, current_principal(), article_id,
                                         if_match_version(), changes)
        return article, etag(article)


@blp.route("/articles/<int:article_id>/review")
class ArticleReview(MethodView):
    @require_scope(WRITE)
    @blp.response(200, ArticleSchema)
    def post(self, article_id: int):
        """Confirm the article is still right; the next review is due N months on"""
        return service.confirm_review(db.session, current_principal(), article_id)


@blp.route("/articles/<int:article_id>/versions")
class ArticleVersions(MethodView):
    @require_scope(READ)
    @blp.response(200, VersionListSchema)
    def get(self, article_id: int):
        """Every version of an article, newest first, with who changed what"""
        return {"items": service.list_versions(db.session, current_principal(), article_id)}


@blp.route("/articles/<int:article_id>/versions/<int:version>")
class ArticleVersionByNumber(MethodView):
    @require_scope(READ)
    @blp.response(200, VersionSchema)
    def get(self, article_id: int, version: int):
        """One version of an article"""
        return service.read_version(db.session, current_principal(), article_id, version)


@blp.route("/articles/<int:article_id>/proposals")
class ArticleProposals(MethodView):
    @require_scope(READ)
    @blp.response(200, ProposalListSchema)
    def get(self, article_id: int):
        """Proposed changes to an article, newest first"""
        return {"items": service.list_proposals(db.session, current_principal(), article_id)}

    @require_scope(WRITE)
    @blp.arguments(ProposalCreateSchema)
    @blp.response(201, ProposalSchema)
    def post(self, data, article_id: int):
        """Propose a change: a note to the owning department"""
        return service.propose_change(db.session, current_principal(), article_id, **data)


@blp.route("/proposals")
class Proposals(MethodView):
    @require_scope(READ)
    @blp.arguments(ProposalListArgsSchema, location="query")
    @blp.response(200, ProposalListSchema)
    def get(self, args):
        """Proposed changes waiting for the caller's answer (owners), or the caller's own"""
        if args["view"] == "mine":
            return {"items": service.my_proposals(db.session, current_principal())}
        return {"items": service.proposals_to_handle(db.session, current_principal())}


@blp.route("/proposals/<int:proposal_id>")
class ProposalAnswer(MethodView):
    @require_scope(WRITE)
    @blp.arguments(ProposalAnswerSchema)
    @blp.response(200, ProposalSchema)
    def patch(self, data, proposal_id: int):
        """Answer a proposal once: the article was changed, or the proposal declined"""
        return service.handle_proposal(db.session, current_principal(), proposal_id,
                                       data["outcome"])


@blp.route("/search")
class Search(MethodView):
    @require_scope(READ)
    @blp.arguments(SearchArgsSchema, location="query")
    @blp.response(200, SearchResultSchema)
    def get(self, args):
        """Search articles in Swedish: ranked, with highlighted snippets (the query is kept,
        folded and without personal data, for the report of searches that found nothing)"""
        return {"items": usage.search_and_record(db.session, current_principal(), **args)}


@blp.route("/report")
class Report(MethodView):
    @require_scope("reports:read")
    @blp.arguments(ReportArgsSchema, location="query")
    @blp.response(200, KnowledgeReportSchema)
    def get(self, args):
        """Articles and templates by use, cases answered with an article per channel, and
        the searches that found nothing, over [from, to)"""
        return usage.knowledge_report(db.session, args["from_"], args["to"])


# What answered a case, beside the case's own resources.
case_uses = Blueprint("knowledge_uses", __name__, url_prefix="/api/v1/cases",
                      description="What answered a case: knowledge articles and templates")


@case_uses.route("/<uuid:case_id>/knowledge-uses")
class CaseKnowledgeUses(MethodView):
    @require_scope("cases:read")
    @case_uses.response(200, AnsweredWithSchema)
    def get(self, case_id):
        """The articles the case was marked as answered with, and the templates its
        replies were sent with"""
        return usage.answered_with(db.session, current_principal(), case_id)

    @require_scope("cases:write")
    @case_uses.arguments(ArticleUseCreateSchema)
    @case_uses.response(201, ArticleUseSchema)
    def post(self, data, case_id):
        """Mark the case as answered with a knowledge article (once per article)"""
        return usage.mark_answered(db.session, current_principal(), case_id,
                                   data["article_id"])
