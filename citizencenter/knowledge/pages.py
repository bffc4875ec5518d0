"""The knowledge panel of the case page and the register form: "Sök i kunskapsbanken"
searches as the guide types (htmx), each hit can be inserted into the reply and, on the
case page, mark the case as answered with it. Without script the panel is a plain GET
form whose answer is a page of its own, with the same "Markera som svar" forms; there a
guide can also propose a change to an article, which its owners answer on
"Kunskapsbanken" (/knowledge/proposals), where they also confirm the articles due for
review.
"""

import uuid

from flask import current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from citizencenter import db
from citizencenter.errors import Conflict, InvalidInput
from citizencenter.knowledge import service, usage
from citizencenter.knowledge.models import Audience
from citizencenter.knowledge.schemas import ProposalCreateSchema
from citizencenter.web import PageBlueprint, current_principal, login_required, texts
from citizencenter.web.pages import NAV

bp = PageBlueprint("knowledge_pages", __name__, template_folder="templates")
NAV.append(("knowledge_pages.proposals", "nav.proposals"))

MAX_QUERY = 200
HITS = 8
PUBLIC_ARTICLE = "knowledge_public.PublicArticleById"


@bp.app_template_global("answered_with")
def answered_with(case) -> dict:
    """What answered the case, for the case page's "Besvarat med" (reads only)."""
    return usage.answered_with_case(db.session, case)


@bp.app_template_global("knowledge_insert_text")
def insert_text(article) -> str:
    """What "Infoga länk" puts in the reply: the title, and for a public article the
    address the citizen can read it at (PUBLIC_BASE_URL, not the host staff reach)."""
    if article.audience == Audience.PUBLIC and PUBLIC_ARTICLE in current_app.view_functions:
        base = (current_app.config["PUBLIC_BASE_URL"] or request.host_url).rstrip("/")
        return f"{article.title}: {base}{url_for(PUBLIC_ARTICLE, article_id=article.id)}"
    return article.title


def _case_id() -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get("case", ""))
    except ValueError:
        return None


@bp.route("/knowledge/search")
@login_required
def search():
    """Hits for the panel (htmx), or the search page (the panel's form without script)."""
    q = request.args.get("q", "").strip()[:MAX_QUERY]
    hits = usage.search_and_record(db.session, current_principal(), q, HITS) if q else []
    case_id = _case_id()
    template = "knowledge/_hits.html" if request.headers.get("HX-Request") \
        else "knowledge/search.html"
    return render_template(template, knowledge_q=q, hits=hits, case_id=case_id, oob=True)


@bp.post("/cases/<uuid:case_id>/knowledge-uses")
@login_required
def mark_answered(case_id: uuid.UUID):
    """Mark the case as answered with an article; htmx gets "Besvarat med" again."""
    try:
        article_id = int(request.form.get("article_id", ""))
    except ValueError:
        raise InvalidInput("article_id", "Choose an article.") from None
    use = usage.mark_answered(db.session, current_principal(), case_id, article_id)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("case_page.case_page", case_id=case_id), 303)
    return render_template("knowledge/_answered_with.html", case_id=case_id,
                           answered=usage.answered_with(db.session, current_principal(),
                                                        case_id),
                           message=texts.t("knowledge.panel.marked", title=use["title"]))


@bp.route("/cases/<uuid:case_id>/answered-with")
@login_required
def answered(case_id: uuid.UUID):
    """ "Besvarat med" as it is now (after a reply sent with a template)."""
    return render_template("knowledge/_answered_with.html", case_id=case_id,
                           answered=usage.answered_with(db.session, current_principal(),
                                                        case_id), message=None)


@bp.route("/knowledge/articles/<int:article_id>/propose", methods=["GET", "POST"])
@login_required
def propose(article_id: int):
    """A guide's proposed change to an article, sent to its owners (the API's service)."""
    article = service.read_article(db.session, current_principal(), article_id)
    error, note = None, ""
    if request.method == "POST":
        note = request.form.get("note", "")
        try:
            data = ProposalCreateSchema().load({"note": note})
        except ValidationError:
            error = "knowledge.propose.error"
        else:
            service.propose_change(db.session, current_principal(), article_id, data["note"])
            return redirect(url_for("knowledge_pages.proposals", notice="sent"), 303)
    return render_template("knowledge/propose.html", article=article, error=error,
                           note=note), 422 if error else 200


_NOTICES = {"sent", "changed", "declined", "reviewed"}


@bp.route("/knowledge/proposals")
@login_required
def proposals():
    """Kunskapsbanken: the proposals and reviews waiting for an owner, and what the
    signed-in user proposed."""
    notice = request.args.get("notice")
    return _proposals_page(f"knowledge.proposals.notice.{notice}" if notice in _NOTICES
                           else None)


def _proposals_page(notice: str | None, error: str | None = None, status: int = 200):
    principal = current_principal()
    owner = service.is_owner(principal)
    return render_template(
        "knowledge/proposals.html", notice=notice, error=error,
        to_answer=service.proposals_to_handle(db.session, principal) if owner else None,
        to_review=service.reviews_due(db.session, principal) if owner else None,
        mine=service.my_proposals(db.session, principal)), status


@bp.post("/knowledge/proposals/<int:proposal_id>")
@login_required
def answer(proposal_id: int):
    """The owner's answer: the article was changed, or the proposal declined."""
    outcome = request.form.get("outcome", "")
    try:
        service.handle_proposal(db.session, current_principal(), proposal_id, outcome)
    except Conflict:
        db.session.rollback()
        return _proposals_page(None, "knowledge.proposals.already", 409)
    return redirect(url_for("knowledge_pages.proposals", notice=outcome), 303)


@bp.post("/knowledge/articles/<int:article_id>/review")
@login_required
def review(article_id: int):
    """The owner confirms the article is still right (the API's service)."""
    service.confirm_review(db.session, current_principal(), article_id)
    return redirect(url_for("knowledge_pages.proposals", notice="reviewed"), 303)
