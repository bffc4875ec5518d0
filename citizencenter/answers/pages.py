"""The case page's answer templates: the "Svarsmall" picker and its preview, which fills
the reply box with the template's text for the case (the same service as the API)."""

import uuid

from flask import render_template, request

from citizencenter import db
from citizencenter.answers import service
from citizencenter.errors import InvalidInput
from citizencenter.web import PageBlueprint, current_principal, login_required

bp = PageBlueprint("answers_pages", __name__, template_folder="templates")


@bp.app_template_global("answer_templates_for")
def answer_templates_for(case) -> list:
    """The active templates that fit the case, for the reply form's picker (reads only)."""
    return service.templates_for(db.session, case)


@bp.post("/cases/<uuid:case_id>/answer-templates/preview")
@login_required
def preview(case_id: uuid.UUID):
    """The reply box filled with the chosen template; the reply then records it."""
    try:
        template_id = int(request.form.get("answer_template", ""))
    except ValueError:
        raise InvalidInput("answer_template", "Choose a template.") from None
    filled = service.preview(db.session, current_principal(), case_id, template_id)
    return render_template("answers/_filled.html", filled=filled)
