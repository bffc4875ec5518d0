"""Breaches and warnings (`/sla`): the cases whose open SLA timers breached or are about to,
with the ledger that explains each, filtered by channel, queue and state. One call of the
service the API's GET /api/v1/sla/at-risk makes (sla.queries.at_risk) and a template.

SLA policies (`/admin/sla-policies`): the policies and an edit page, saved through the
service behind PATCH /api/v1/sla/policies/<slug>, each with a worked example of its
effect computed by the clocks' own code (`policies.example`)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts.models import Department
from citizencenter.api import paginator
from citizencenter.cases.enums import Channel, Priority
from citizencenter.errors import AppError, InvalidInput, PreconditionFailed
from citizencenter.organisation.models import Category, Queue
from citizencenter.sla import policies, queries
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.calendar import DEFAULT_TIMEZONE
from citizencenter.sla.calendars.models import SlaCalendar
from citizencenter.sla.enums import Metric, TargetUnit
from citizencenter.sla.permissions import require_manager
from citizencenter.sla.schemas import PAUSABLE, PolicyChangeSchema, PolicyCreateSchema
from citizencenter.web import PageBlueprint, current_principal, login_required, texts
from citizencenter.web.pages import ADMIN_SECTIONS, NAV, NAV_SCOPES

bp = PageBlueprint("sla_pages", __name__, template_folder="templates")
NAV.append(("sla_pages.at_risk", "nav.sla"))
NAV_SCOPES["sla_pages.at_risk"] = "reports:read"
ADMIN_SECTIONS.append(("sla_pages.policies_list", "admin.section.sla_policies", "sla:write"))
STATES = ("breached", "warning")


def _filters() -> dict:
    args = request.args
    filters = {"state": args.get("state") or None, "channel": args.get("channel") or None,
               "queue": args.get("queue") or None}
    if filters["state"] not in (None, *STATES):
        raise InvalidInput("state", "Unknown value.")
    if filters["channel"] not in (None, *(c.value for c in Channel)):
        raise InvalidInput("channel", "Unknown value.")
    return filters


@bp.route("/sla")
@login_required
def at_risk():
    """Breached and warned cases with the ledger of each timer."""
    filters = _filters()
    result = queries.at_risk(db.session, current_principal(), **filters)
    queues = db.session.execute(select(Queue.slug, Queue.name).order_by(Queue.name)).all()
    return render_template("sla/at_risk.html", result=result, filters=filters, queues=queues,
                           channels=list(Channel), states=STATES)


# --- SLA policies ------------------------------------------------------------------------
CHOICE_FIELDS = ("channel", "priority", "category", "department", "calendar")


def _when(value: datetime) -> str:
    """"fredag 4 december 16:30"."""
    return texts.t("policies.when", weekday=texts.t(f"calendars.weekday.{value.weekday()}"),
                   day=value.day, month=texts.t(f"calendars.month.{value.month}"),
                   time=value.strftime("%H:%M"))


def example_text(policy) -> str:
    """The policy's effect in a sentence, the due time computed by `policies.example`."""
    zone = ZoneInfo(calendars.current_version(policy.calendar).timezone if policy.calendar
                    else DEFAULT_TIMEZONE)
    start, due = policies.example(policy, datetime.now(zone).date())
    channel = policy.channel.value if policy.channel else "any"
    subject = texts.t(f"policies.example.subject.{channel}")
    return texts.t("policies.example", subject=subject, start=_when(start),
                   verb=texts.t(f"policies.example.verb.{policy.metric.value}"), due=_when(due))


@bp.route("/admin/sla-policies")
@login_required
def policies_list():
    """Every policy with its target, calendar and a worked example."""
    require_manager(current_principal())
    page = policies.list_policies(db.session, paginator(), limit=100,
                                  cursor=request.args.get("cursor") or None)
    return render_template("sla/policies.html", policies=page.items,
                           next_cursor=page.next_cursor,
                           examples={p.slug: example_text(p) for p in page.items})


def _policy_form(policy) -> dict:
    return {"name": policy.name, "metric": policy.metric.value,
            "channel": policy.channel.value if policy.channel else "",
            "priority": policy.priority.value if policy.priority else "",
            **{name: getattr(getattr(policy, name), "slug", None) or ""
               for name in ("category", "department", "calendar")},
            "target_value": str(policy.target_value), "target_unit": policy.target_unit.value,
            "pause_statuses": list(policy.pause_statuses or []),
            "warn_at_percent": str(policy.warn_at_percent), "active": policy.active,
            "updated_at": policy.updated_at.isoformat()}


def _policy_posted() -> dict:
    form = request.form
    shown = {name: form.get(name, "").strip() for name in
             ("slug", "name", "metric", *CHOICE_FIELDS, "target_value", "target_unit",
              "warn_at_percent", "updated_at")}
    shown["pause_statuses"] = form.getlist("pause_statuses")
    shown["active"] = form.get("active") == "on"
    return shown


def _render_policy(policy, shown: dict, errors: dict, *, saved: bool | str = False,
                   status: int = 200):
    """The edit form of a policy, or (policy None) the form of a new one."""
    options = {
        "categories": db.session.execute(select(Category.slug, Category.name)
                                         .order_by(Category.name)).all(),
        "departments": db.session.execute(select(Department.slug, Department.name)
                                          .order_by(Department.name)).all(),
        "calendars": db.session.execute(select(SlaCalendar.slug, SlaCalendar.name)
                                        .order_by(SlaCalendar.name)).all(),
    }
    return render_template(
        "sla/policy.html", policy=policy, shown=shown, errors=errors, saved=saved,
        example=example_text(policy) if policy else None, metrics=list(Metric),
        channels=[(c.value, texts.t(f"case.channel.{c.value}")) for c in Channel],
        priorities=[(p.value, texts.t(f"case.priority.{p.value}")) for p in Priority],
        units=[(u.value, texts.t(f"policies.unit.{u.value}")) for u in TargetUnit],
        pausable=[s.value for s in PAUSABLE], **options), status


def _loaded(shown: dict, schema) -> tuple[dict, dict]:
    """The API body the form stands for (`schema` loaded), and errors by field."""
    raw = {"name": shown["name"], "metric": shown["metric"],
           **{name: shown[name] or None for name in CHOICE_FIELDS},
           "target_value": shown["target_value"], "target_unit": shown["target_unit"],
           "pause_statuses": shown["pause_statuses"],
           "warn_at_percent": shown["warn_at_percent"], "active": shown["active"]}
    if isinstance(schema, PolicyCreateSchema):
        raw["slug"] = shown["slug"]
    errors = {}
    for name in ("target_value", "warn_at_percent"):
        try:
            raw[name] = int(raw[name])
        except ValueError:
            errors[name] = f"policies.error.{name}"
    try:
        data = schema.load(raw)
    except ValidationError as error:
        errors.update({name: f"policies.error.{name}" for name in error.messages})
        data = {}
    return data, errors


@bp.route("/admin/sla-policies/new", methods=["GET", "POST"])
@login_required
def new_policy():
    """A new policy through the service of POST /api/v1/sla/policies."""
    principal = current_principal()
    require_manager(principal)
    if request.method == "GET":
        return _render_policy(None, {"slug": "", "name": "", "metric": Metric.RESOLUTION.value,
                                     **dict.fromkeys(CHOICE_FIELDS, ""),
                                     "target_value": "", "target_unit": TargetUnit.HOURS.value,
                                     "pause_statuses": [], "warn_at_percent": "80",
                                     "active": True}, {})
    shown = _policy_posted()
    data, errors = _loaded(shown, PolicyCreateSchema())
    if errors:
        return _render_policy(None, shown, errors, status=422)
    try:
        policy = policies.create_policy(db.session, principal, data)
    except policies.PolicyExists:
        db.session.rollback()
        return _render_policy(None, shown, {"slug": "policies.error.slug_taken"}, status=422)
    except AppError as error:
        db.session.rollback()
        if error.status != 422:
            raise
        field = (error.errors or [{}])[0].get("field", "form")
        return _render_policy(None, shown, {field: f"policies.error.{field}"}, status=422)
    return redirect(url_for("sla_pages.policy_page", slug=policy.slug, created=1))


@bp.route("/admin/sla-policies/<string:slug>")
@login_required
def policy_page(slug: str):
    require_manager(current_principal())
    policy = policies.get_policy(db.session, slug)
    return _render_policy(policy, _policy_form(policy), {},
                          saved="created" if request.args.get("created") else False)


@bp.post("/admin/sla-policies/<string:slug>")
@login_required
def save_policy(slug: str):
    """Save the form through the service of PATCH /api/v1/sla/policies/<slug>."""
    principal = current_principal()
    require_manager(principal)
    policy = policies.get_policy(db.session, slug)
    shown = _policy_posted()
    changes, errors = _loaded(shown, PolicyChangeSchema())
    if errors:
        return _render_policy(policy, shown, errors, status=422)
    try:
        policy = policies.update_policy(db.session, principal, slug, changes,
                                        unchanged_since=shown["updated_at"])
    except PreconditionFailed:
        db.session.rollback()
        policy = policies.get_policy(db.session, slug)
        return _render_policy(policy, shown, {"form": "policies.error.stale"}, status=409)
    except AppError as error:
        db.session.rollback()
        if error.status != 422:
            raise
        field = (error.errors or [{}])[0].get("field", "form")
        policy = policies.get_policy(db.session, slug)
        return _render_policy(policy, shown, {field: f"policies.error.{field}"}, status=422)
    return _render_policy(policy, _policy_form(policy), {}, saved=True)
