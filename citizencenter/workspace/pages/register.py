"""Register a contact fast (`/register`): a call or a visit the guide has just handled,
saved in one service call (workspace.registration) and the form ready for the next.

With htmx the answer is the form again (emptied after a save, the typed input kept with
the errors tied to their fields) and the confirmation in the page's live region; without
script the whole page comes back the same way. `?call=<id>` (the screen pop's link)
starts the form with the caller and links the call.
"""

import marshmallow as ma
from flask import current_app, render_template, request, url_for
from marshmallow import fields, validate

from citizencenter import db
from citizencenter import fields as checked
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.schemas import MAX_BODY, ContactInSchema
from citizencenter.errors import AppError
from citizencenter.web import PageBlueprint, current_principal, login_required, pages
from citizencenter.workspace import registration

bp = PageBlueprint("register_page", __name__, template_folder="../templates")
pages.NAV.append(("register_page.register", "nav.register"))

CHANNELS = ("phone", "walk_in")
CASE_PAGE = "case_page.case_page"
# The form's fields in page order: an error summary lists them so, and focus goes to the first.
FIELDS = ("channel", "service_point", "category", "subject", "description", "name", "phone",
          "email")
CONTACT_FIELDS = ("name", "phone", "email")
# Fields the registration service may name in its errors, as the form calls them.
SERVICE_FIELDS = {"channel": "channel", "service_point": "service_point",
                  "category": "category", "call_id": "call"}


class RegisterFormSchema(ContactInSchema):
    """The form as posted (the citizen's name, phone and e-mail as the API takes them);
    blank boxes count as not filled in."""

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    service_point = checked.slug()
    category = checked.slug()
    subject = checked.SingleLine(required=True, strip=True,
                                 validate=validate.Length(min=1, max=300))
    description = checked.Text(load_default="", validate=validate.Length(max=MAX_BODY))
    first_contact = fields.Boolean(load_default=False, truthy={"on"}, falsy={"off"})
    call = fields.Integer(validate=validate.Range(min=1, max=checked.INT32_MAX))


@bp.route("/register")
@login_required
def register():
    call_id = request.args.get("call", type=int)
    form = registration.registration_form(db.session, current_principal(), call_id)
    typed = {"channel": "phone",
             "service_point": form.own_service_point or "", "call": form.call_id or "",
             **{name: value or "" for name, value in form.contact.items()}}
    caller = (form.contact.get("phone") or "withheld") if form.call_id else None
    return render_template("workspace/register/register.html", form=form, typed=typed,
                           errors={}, saved=None, caller=caller)


@bp.post("/register")
@login_required
def save():
    posted = {name: value.strip() if name != "description" else value
              for name, value in request.form.items() if name != "csrf_token"}
    filled = {name: value for name, value in posted.items() if value != ""}
    errors, saved = {}, None
    try:
        data = RegisterFormSchema().load(filled, unknown=ma.EXCLUDE)
    except ma.ValidationError as error:
        errors = {name: f"register.error.{name}" for name in FIELDS + ("call",)
                  if name in error.messages}
    else:
        contact = {name: data[name] for name in CONTACT_FIELDS if data.get(name)}
        try:
            saved = registration.register_contact(
                db.session, current_principal(), channel=data["channel"],
                category=data.get("category"), subject=data["subject"],
                description=data["description"],
                resolved_first_contact=data["first_contact"], contact=contact or None,
                call_id=data.get("call"), service_point=data.get("service_point"))
        except AppError as error:
            db.session.rollback()
            if error.status == 403:
                raise
            errors = _service_errors(error)
    form = registration.registration_form(db.session, current_principal())
    if saved is not None:  # the next contact starts where this one was: same channel, place
        typed = {"channel": posted.get("channel", "phone"),
                 "service_point": posted.get("service_point", "")}
    else:
        typed = posted
    fragment = bool(request.headers.get("HX-Request"))
    template = "workspace/register/_form.html" if fragment else "workspace/register/register.html"
    status = 422 if errors and not fragment else 200  # htmx swaps only 2xx answers
    return render_template(template, form=form, typed=typed, errors=errors,
                           saved=_summary(saved), caller=None, oob=fragment), status


def _service_errors(error: AppError) -> dict:
    """The service's refusal tied to the form field it concerns, else to the whole form."""
    named = [SERVICE_FIELDS.get(entry.get("field")) for entry in error.errors or []]
    if error.status == 404:  # the linked call is not this guide's answered call
        named = ["call"]
    fields_named = {name: f"register.error.{name}" for name in named if name}
    return fields_named or {"form": "register.error.form"}


def _summary(case) -> dict | None:
    if case is None:
        return None
    finished = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    url = url_for(CASE_PAGE, case_id=case.id) if CASE_PAGE in current_app.view_functions \
        else None
    return {"reference": case.reference, "finished": finished, "url": url}
