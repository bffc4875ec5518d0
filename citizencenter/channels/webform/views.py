from functools import wraps

from flask import current_app, g, request
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, paginator
from citizencenter.channels.webform import service
from citizencenter.channels.webform.ratelimit import SlidingWindowLimiter, app_limiter
from citizencenter.channels.webform.schemas import (
    InquiryReceiptSchema,
    InquirySchema,
    PublicCategoryPageSchema,
)
from citizencenter.idempotency import idempotent
from citizencenter.pagination import PageArgsSchema

blp = Blueprint("webform", __name__, url_prefix="/api/v1/webform",
                description="The public web form (no token)")


def _limiter() -> SlidingWindowLimiter:
    return app_limiter(current_app.extensions, current_app.config, "webform")


def public_and_rate_limited(view):
    """Count the caller's address against the form's limit; idempotency keys are shared."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        config = current_app.config
        _limiter().hit(request.remote_addr or "unknown", config["WEBFORM_RATE_LIMIT"],
                       config["WEBFORM_RATE_WINDOW_S"])
        g.principal = service.WEBFORM
        return view(*args, **kwargs)

    return wrapper


@blp.route("/categories")
class PublicCategories(MethodView):
    @blp.doc(security=[])
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PublicCategoryPageSchema, headers={"Cache-Control": {
        "schema": {"type": "string"}}})
    def get(self, args):
        """List the categories a citizen may choose"""
        return service.public_categories(db.session, paginator(), **args), \
            {"Cache-Control": "public, max-age=300"}


@blp.route("/inquiries")
class Inquiries(MethodView):
    @blp.doc(security=[])
    @public_and_rate_limited
    @idempotent
    @blp.arguments(InquirySchema)
    @blp.response(201, InquiryReceiptSchema)
    @blp.alt_response(202, schema=InquiryReceiptSchema,
                      description="Accepted without a reference (refused quietly as spam)")
    @blp.alt_response(429, description="Too many inquiries from this address; see Retry-After")
    def post(self, data):
        """Send an inquiry; an acknowledgement goes to the e-mail address, if given"""
        case = service.submit_inquiry(db.session, **data)
        if case is None:
            return {"status": "received"}, 202
        return {"status": "received", "reference": case.reference}, 201
