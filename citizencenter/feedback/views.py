from datetime import timedelta

from flask import Blueprint as FlaskBlueprint
from flask import current_app, request
from flask.views import MethodView

from citizencenter import db, keys
from citizencenter.api import Blueprint, paginator
from citizencenter.auth import require_scope
from citizencenter.errors import AppError, InvalidInput
from citizencenter.feedback import pages as html
from citizencenter.feedback import service
from citizencenter.feedback.links import LinkGone, LinkInvalid
from citizencenter.feedback.schemas import FeedbackPageSchema, FeedbackQueryArgsSchema

blp = Blueprint("feedback", __name__, url_prefix="/api/v1/feedback",
                description="Citizens' ratings of resolved cases")
# The citizen's page is HTML for a browser, outside the JSON API and its documentation.
pages = FlaskBlueprint("feedback_pages", __name__, url_prefix="/feedback")


def link_settings() -> service.LinkSettings:
    config = current_app.config
    return service.LinkSettings(
        secret_key=keys.serializer_keys(config, "feedback-links", legacy=True),
        ttl=timedelta(days=config["FEEDBACK_LINK_TTL_DAYS"]),
        base_url=config["PUBLIC_BASE_URL"] or request.host_url)


@blp.route("")
class Feedback(MethodView):
    @require_scope("reports:read")
    @blp.arguments(FeedbackQueryArgsSchema, location="query")
    @blp.response(200, FeedbackPageSchema)
    def get(self, args):
        """List citizens' answers, newest first"""
        return service.list_feedback(db.session, paginator(), **args)


def _html(body: str, status: int = 200):
    return body, status, {**html.HEADERS, "Content-Type": "text/html; charset=utf-8"}


@pages.get("/<token>")
def form(token: str):
    service.open_request(db.session, token, link_settings())
    return _html(html.form_page())


@pages.post("/<token>")
def submit(token: str):
    service.submit(db.session, token, request.form, link_settings())
    return _html(html.thanks_page())


@pages.errorhandler(InvalidInput)
def invalid_answers(error: InvalidInput):
    field = error.errors[0]["field"]
    return _html(html.form_page((field, error.errors[0]["message"]), request.form), 422)


@pages.errorhandler(LinkGone)
@pages.errorhandler(LinkInvalid)
def refused(error: AppError):
    return _html(html.refused_page(error.detail), error.status)
