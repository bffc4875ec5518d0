"""The knowledge panel of the case page and the register form: "Sök i kunskapsbanken"
searches as the guide types (htmx), each hit can be inserted into the reply and, on the
case page, mark the case as answered with it. Without script the panel is a plain GET
form whose answer is a page of its own, with the same "Markera som svar" forms.
"""

import uuid

from flask import current_app, redirect, render_template, request, url_for

from citizencenter import db
from citizencenter.errors import InvalidInput
from citizencenter.knowledge import usage
from citizencenter.knowledge.models import Audience
from citizencenter.web import PageBlueprint, current_principal, login_required, texts

bp = PageBlueprint("knowledge_pages", __name__, template_folder="templates")

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
