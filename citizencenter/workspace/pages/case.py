"""The case page (`/cases/<id>`): the case, its contact, conversation and SLA clocks, and
the guide's changes to it, each one service call (workspace.case_view) and a template.

Every form sends the case version the page showed. With htmx a change answers with its
form's feedback plus out-of-band parts (summary, conversation, change forms, versions),
so typed text in the other boxes stays; a change someone else made meanwhile answers with
a message and the new state, and keeps what the guide typed or chose. Without script a
change redirects back to the page, or shows the page again with the message and input.
"""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from citizencenter import db
from citizencenter.cases.enums import CaseStatus, Direction, Priority
from citizencenter.citizen_view import service as citizen_view
from citizencenter.errors import AppError, InvalidInput, PreconditionFailed
from citizencenter.web import PageBlueprint, current_principal, login_required, texts
from citizencenter.workspace import case_view

bp = PageBlueprint("case_page", __name__, template_folder="../templates")

LOCAL_TIME = ZoneInfo("Europe/Stockholm")
# Forms whose own boxes hold typed text: answered without replacing the form.
TYPED_FORMS = ("reply", "note", "forward", "resolve")
CHANGE_FORMS = ("status", "priority", "category", "release")


@bp.app_template_filter("case_time")
def _case_time(moment: datetime | None) -> str:
    """A moment in Swedish local time, e.g. 2026-12-01 14:05."""
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.route("/cases/<uuid:case_id>")
@login_required
def case_page(case_id: uuid.UUID):
    view = case_view.show_case(db.session, current_principal(), case_id)
    return _page(view)


@bp.route("/cases/<uuid:case_id>/sla-ledger")
@login_required
def sla_ledger(case_id: uuid.UUID):
    """The ledger lines behind the SLA clocks, loaded when the guide opens them."""
    sla = case_view.sla_ledger(db.session, current_principal(), case_id)
    template = "workspace/case/_ledger.html"
    if not request.headers.get("HX-Request"):
        template = "workspace/case/ledger_page.html"
    return render_template(template, sla=sla, case_id=case_id)


@bp.route("/cases/<uuid:case_id>/messages/<int:message_id>/delivery")
@login_required
def delivery(case_id: uuid.UUID, message_id: int):
    """A reply's delivery state; the page asks again until it is final."""
    state = case_view.delivery_state(db.session, current_principal(), case_id, message_id)
    asked = min(max(request.args.get("asked", 0, type=int), 0), 1000)
    return render_template("workspace/case/_delivery.html", case_id=case_id,
                           message_id=message_id, state=state,
                           final=case_view.FINAL_STATES, asked=asked)


@bp.post("/cases/<uuid:case_id>/citizen-links/revoke")
@login_required
def revoke_links(case_id: uuid.UUID):
    """Refuse the citizen's links to the case issued until now (a receipt sent astray)."""
    return _act(case_id, "links",
                lambda _version: citizen_view.revoke(db.session, current_principal(), case_id))


@bp.post("/cases/<uuid:case_id>/reply")
@login_required
def reply(case_id: uuid.UUID):
    return _act(case_id, "reply", lambda version: case_view.add_message(
        db.session, current_principal(), case_id, version, Direction.OUTBOUND,
        request.form.get("body", ""), request.form.get("answer_template_id") or None))


@bp.post("/cases/<uuid:case_id>/note")
@login_required
def note(case_id: uuid.UUID):
    return _act(case_id, "note", lambda version: case_view.add_message(
        db.session, current_principal(), case_id, version, Direction.INTERNAL,
        request.form.get("body", "")))


@bp.post("/cases/<uuid:case_id>/status")
@login_required
def status(case_id: uuid.UUID):
    return _act(case_id, "status", lambda version: case_view.change(
        db.session, current_principal(), case_id, version,
        {"status": _choice(CaseStatus, "status")}))


@bp.post("/cases/<uuid:case_id>/priority")
@login_required
def priority(case_id: uuid.UUID):
    return _act(case_id, "priority", lambda version: case_view.change(
        db.session, current_principal(), case_id, version,
        {"priority": _choice(Priority, "priority")}))


@bp.post("/cases/<uuid:case_id>/category")
@login_required
def category(case_id: uuid.UUID):
    return _act(case_id, "category", lambda version: case_view.change(
        db.session, current_principal(), case_id, version,
        {"category": request.form.get("category") or None}))


@bp.post("/cases/<uuid:case_id>/release")
@login_required
def release(case_id: uuid.UUID):
    """Lägg tillbaka i kön: the case waits in its queue for the next free guide."""
    return _act(case_id, "release", lambda version: case_view.change(
        db.session, current_principal(), case_id, version, {"assignee": None}))


@bp.post("/cases/<uuid:case_id>/forward")
@login_required
def forward(case_id: uuid.UUID):
    return _act(case_id, "forward", lambda version: case_view.forward(
        db.session, current_principal(), case_id, version,
        request.form.get("department", ""), request.form.get("note", "")))


@bp.post("/cases/<uuid:case_id>/resolve")
@login_required
def resolve(case_id: uuid.UUID):
    return _act(case_id, "resolve", lambda version: case_view.change(
        db.session, current_principal(), case_id, version,
        {"status": CaseStatus.RESOLVED,
         "resolved_at_first_contact": request.form.get("first_contact") == "on"}))


def _choice(enum, name: str):
    try:
        return enum(request.form.get(name, ""))
    except ValueError:
        raise InvalidInput(name, "Unknown value.") from None


def _version() -> int | None:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return None


def _act(case_id: uuid.UUID, form: str, action):
    """Run one change; answer with its outcome, the case as it is now and the kept input."""
    try:
        action(_version())
    except (PreconditionFailed, StaleDataError):  # changed meanwhile, by a person or worker
        db.session.rollback()
        return _answer(case_id, form, "conflict", texts.t("case.conflict"), 409)
    except AppError as error:
        if error.status == 404:
            raise
        db.session.rollback()
        return _answer(case_id, form, "error", _error_text(form, error), error.status)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("case_page.case_page", case_id=case_id, done=form), 303)
    return _answer(case_id, form, "ok", texts.t(f"case.{form}.done"), 200)


def _error_text(form: str, error: AppError) -> str:
    if error.status == 409:
        return texts.t("case.invalid_transition")
    if error.status == 403:
        return texts.t("error.403")
    if form in ("reply", "note") and error.errors and error.errors[0]["field"] == "body":
        return texts.t(f"case.{form}.empty")
    if form == "forward" and error.errors and error.errors[0]["field"] == "department":
        return texts.t("case.forward.no_department")
    return texts.t("error.422")


def _answer(case_id: uuid.UUID, form: str, outcome: str, message: str, status: int):
    view = case_view.current_view(db.session, current_principal(), case_id)
    feedback = {"form": form, "outcome": outcome, "message": message}
    kept = request.form if outcome != "ok" else {}
    if request.headers.get("HX-Request"):
        response = render_template("workspace/case/_answer.html", view=view,
                                   feedback=feedback, kept=kept, **_choices())
        headers = {"HX-Trigger": "case-saved"} if outcome == "ok" else {}
        return response, 200, headers  # htmx swaps only 2xx answers
    return _page(view, feedback=feedback, kept=kept), status


def _choices() -> dict:
    return {"priorities": list(Priority), "final_states": case_view.FINAL_STATES}


def _page(view, feedback: dict | None = None, kept=None):
    done = request.args.get("done")
    if feedback is None and done in (*TYPED_FORMS, *CHANGE_FORMS):
        feedback = {"form": done, "outcome": "ok", "message": texts.t(f"case.{done}.done")}
    return render_template("workspace/case/case.html", view=view, feedback=feedback,
                           kept=kept or {}, **_choices())
