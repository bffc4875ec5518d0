"""The knowledge base for the municipality's website: public articles, no token.

Answers are cacheable (ETag over the body, Last-Modified, Cache-Control: public), so the
website and any cache in front of it revalidate with a cheap 304; every client address is
rate limited; any origin may read (the content is public).
"""

from functools import wraps

from flask import current_app, g, request
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, paginator
from citizencenter.channels.webform.ratelimit import SlidingWindowLimiter, app_limiter
from citizencenter.knowledge import service
from citizencenter.knowledge.schemas import (
    PublicArticlePageSchema,
    PublicArticleSchema,
    PublicListArgsSchema,
    PublicSearchResultSchema,
    SearchArgsSchema,
)

blp = Blueprint("knowledge_public", __name__, url_prefix="/api/v1/public/knowledge",
                description="The public knowledge base for the municipality's website "
                            "(no token, cacheable, rate limited)")


def _limiter() -> SlidingWindowLimiter:
    return app_limiter(current_app.extensions, current_app.config, "knowledge")


def public_and_cacheable(view):
    """Rate limit the caller's address, then answer 304 when the caller's copy is current."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        config = current_app.config
        _limiter().hit(request.remote_addr or "unknown", config["KNOWLEDGE_PUBLIC_RATE_LIMIT"],
                       config["KNOWLEDGE_PUBLIC_RATE_WINDOW_S"])
        g.principal = service.PUBLIC
        response = view(*args, **kwargs)
        response.add_etag()
        if last_modified := g.pop("last_modified", None):
            response.last_modified = last_modified
        response.cache_control.public = True
        response.cache_control.max_age = config["KNOWLEDGE_PUBLIC_MAX_AGE_S"]
        return response.make_conditional(request)

    return wrapper


@blp.after_request
def _any_origin(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.add("Access-Control-Expose-Headers", "ETag, Last-Modified, Retry-After")
    return response


_CACHE_HEADERS = {"ETag": {"schema": {"type": "string"}},
                  "Last-Modified": {"schema": {"type": "string"}},
                  "Cache-Control": {"schema": {"type": "string"}}}


@blp.route("/articles")
class PublicArticles(MethodView):
    @public_and_cacheable
    @blp.doc(security=[])
    @blp.arguments(PublicListArgsSchema, location="query")
    @blp.response(200, PublicArticlePageSchema, headers=_CACHE_HEADERS)
    @blp.alt_response(304, description="The copy named in If-None-Match is current")
    @blp.alt_response(429, description="Too many requests from this address; see Retry-After")
    def get(self, args):
        """List the public articles by title"""
        page = service.public_articles(db.session, paginator(), **args)
        if page.items:
            g.last_modified = max(article.updated_at for article in page.items)
        return page


@blp.route("/articles/<int:article_id>")
class PublicArticleById(MethodView):
    @public_and_cacheable
    @blp.doc(security=[])
    @blp.response(200, PublicArticleSchema, headers=_CACHE_HEADERS)
    @blp.alt_response(304, description="The copy named in If-None-Match is current")
    @blp.alt_response(429, description="Too many requests from this address; see Retry-After")
    def get(self, article_id: int):
        """Read a public article; internal articles do not exist here"""
        article = service.read_article(db.session, service.PUBLIC, article_id)
        g.last_modified = article.updated_at
        return article


@blp.route("/search")
class PublicSearch(MethodView):
    @public_and_cacheable
    @blp.doc(security=[])
    @blp.arguments(SearchArgsSchema, location="query")
    @blp.response(200, PublicSearchResultSchema, headers=_CACHE_HEADERS)
    @blp.alt_response(304, description="The copy named in If-None-Match is current")
    @blp.alt_response(429, description="Too many requests from this address; see Retry-After")
    def get(self, args):
        """Search the public articles in Swedish: ranked, with highlighted snippets"""
        return {"items": service.search_articles(db.session, service.PUBLIC, **args)}
