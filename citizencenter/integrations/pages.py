"""Integrations for administrators (`/admin/integrations`): the phone system and the other
integrations (scopes, signing secret and its rotation, last deliveries, signature failures),
department webhooks (last deliveries, a signed test event), polled mailboxes and the mail
quarantine. Each action calls the service its API endpoint calls:
GET/POST /api/v1/integrations, POST /api/v1/integrations/<name>/rotate,
GET /api/v1/departments/webhooks, POST /api/v1/departments/<slug>/webhook/test,
GET /api/v1/email/mailboxes, GET /api/v1/email/quarantine and its /<id>/retry."""

from flask import current_app, redirect, render_template, request, url_for

from citizencenter import db, keys
from citizencenter.api import paginator
from citizencenter.channels.email import service as email
from citizencenter.errors import InvalidInput
from citizencenter.integrations import service
from citizencenter.routing import webhooks
from citizencenter.web import PageBlueprint, current_principal, login_required, texts
from citizencenter.web.pages import ADMIN_SECTIONS

SCOPE = "integrations:write"  # held by administrators ("*") only
bp = PageBlueprint("integrations_pages", __name__, template_folder="templates")
ADMIN_SECTIONS.append(("integrations_pages.overview", "admin.section.integrations", SCOPE))
QUARANTINE_SHOWN = 20


def _page(status: int = 200, **shown):
    principal = current_principal()
    principal.require(SCOPE)
    context = {
        "integrations": service.list_integrations(db.session, principal),
        "webhooks": webhooks.webhook_overview(db.session, principal),
        "mailboxes": email.mailbox_states(db.session),
        "quarantine": email.list_quarantined(db.session, paginator(),
                                             limit=QUARANTINE_SHOWN).items,
        "form": {"name": "", "scopes": ""}, "errors": {}, "notice": None,
    }
    context.update(shown)
    return render_template("integrations/overview.html", **context), status


@bp.route("/admin/integrations")
@login_required
def overview():
    """Everything the page shows; a notice of what was just done comes in the query."""
    notice = request.args.get("done")
    return _page(notice=texts.t(f"integrations.done.{notice}")
                 if notice in ("test_queued",) else None)


@bp.post("/admin/integrations")
@login_required
def create():
    current_principal().require(SCOPE)
    form = {"name": request.form.get("name", ""), "scopes": request.form.get("scopes", "")}
    scopes = [s.strip() for s in form["scopes"].replace(",", " ").split()]
    try:
        integration, token, secret = service.create(
            db.session, current_principal(), form["name"], scopes,
            keys.secret_keys(current_app.config))
    except InvalidInput as exc:
        db.session.rollback()
        field = exc.errors[0]["field"]
        return _page(422, form=form, errors={field: texts.t(f"integrations.error.{field}")})
    return _page(created={"name": integration.name, "token": token, "secret": secret})


@bp.post("/admin/integrations/<string:name>/rotate")
@login_required
def rotate(name: str):
    rotation = service.rotate_for(db.session, current_principal(), name,
                                  keys.secret_keys(current_app.config),
                                  current_app.config["INTEGRATION_SECRET_GRACE_S"])
    return _page(rotated={"name": name, "secret": rotation.secret,
                          "until": rotation.previous_valid_until})


@bp.post("/admin/integrations/webhooks/<string:slug>/test")
@login_required
def send_test(slug: str):
    webhooks.request_test(db.session, current_principal(), slug)
    return redirect(url_for("integrations_pages.overview", done="test_queued") + "#webhooks")


@bp.post("/admin/integrations/quarantine/<int:quarantine_id>/retry")
@login_required
def retry(quarantine_id: int):
    current_principal().require(SCOPE)
    outcome = email.retry_quarantined(db.session, current_principal(), quarantine_id,
                                      current_app.config)
    return _page(retried={"id": quarantine_id, "outcome": outcome})
