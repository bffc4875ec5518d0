"""Routing administration (/admin/routing-rules, /admin/queues): the ordered rules with
moving, editing, versions and a dry run ("Testa"), and each queue's timeout and overflow.
Every view calls the service the API's /api/v1/routing endpoints call."""

import marshmallow as ma
from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from citizencenter import db
from citizencenter.accounts.models import Department
from citizencenter.cases.enums import Channel, Priority
from citizencenter.errors import AppError, NotFound, flatten_messages
from citizencenter.organisation.models import Category, Queue
from citizencenter.routing import channel_defaults, escalation, rules, service
from citizencenter.routing.schemas import DryRunInSchema, QueuePolicyInSchema, RuleInSchema
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import ADMIN_SECTIONS
from citizencenter.web.texts import t

bp = PageBlueprint("routing_pages", __name__, template_folder="templates")
ADMIN_SECTIONS.append(("routing_pages.rule_list", "admin.section.routing_rules", "routing:write"))
ADMIN_SECTIONS.append(("routing_pages.queues", "admin.section.queues", "routing:write"))
SCOPE = "routing:write"
WEEKDAYS = range(1, 8)
# The form's field (its id) that an error of the schema or the service is shown next to.
FORM_FIELDS = {
    "name": "name", "position": "position", "conditions.channels": "channels",
    "conditions.categories": "categories", "conditions.languages": "languages",
    "conditions.keywords": "keywords", "conditions.hours": "hours",
    "conditions.contact": "contact", "actions": "target", "actions.queue": "target",
    "actions.department": "target", "actions.priority": "priority",
    "actions.required_skills.categories": "skill_categories",
    "actions.required_skills.languages": "skill_languages",
    "subject": "subject", "channel": "channel", "sender": "sender",
    "timeout_s": "timeout", "overflow_queue": "overflow",
}


def _field(path: str) -> str:
    """The form field an error path belongs to (the longest known prefix)."""
    parts = path.split(".")
    while parts:
        if ".".join(parts) in FORM_FIELDS:
            return FORM_FIELDS[".".join(parts)]
        parts.pop()
    return "name"


def _message(field: str, message: str) -> str:
    """The Swedish text for an error on a field; the service's cycle names the chain."""
    if message.startswith("Overflow cycle: "):
        slugs = message.removeprefix("Overflow cycle: ").rstrip(".").split(" → ")
        names = dict(db.session.execute(select(Queue.slug, Queue.name)
                                        .where(Queue.slug.in_(slugs))).all())
        return t("queues.error.cycle", chain=" → ".join(names.get(s, s) for s in slugs))
    return t(f"routing.error.{field}")


def _errors(entries: list[dict]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for entry in entries:
        field = _field(entry["field"])
        errors.setdefault(field, _message(field, entry["message"]))
    return errors


def _load(schema: ma.Schema, data: dict) -> tuple[dict | None, dict[str, str]]:
    try:
        return schema.load(data), {}
    except ma.ValidationError as error:
        return None, _errors(list(flatten_messages(error.messages)))


def _lines(value: str, sep: str = ",") -> list[str]:
    if sep == "\n":
        return [line.strip() for line in value.splitlines() if line.strip()]
    return [part.strip() for part in value.split(sep) if part.strip()]


def _flag(value: str | None):
    return {"yes": True, "no": False}.get(value or "")


def _rule_input(form) -> dict:
    """The API's rule document from the form's fields (empty fields are left out)."""
    conditions: dict = {}
    for key, value in (("channels", form.getlist("channels")),
                       ("categories", form.getlist("categories")),
                       ("languages", _lines(form.get("languages", ""))),
                       ("keywords", _lines(form.get("keywords", ""), "\n"))):
        if value:
            conditions[key] = value
    hours = {k: form.get(f"hours_{k}", "").strip() for k in ("from", "to")}
    hours = {k: v for k, v in hours.items() if v}
    if form.getlist("weekdays"):
        hours["weekdays"] = form.getlist("weekdays")
    if hours:
        conditions["hours"] = hours
    contact = {k: _flag(form.get(f"contact_{k}")) for k in ("known", "has_email", "has_phone")}
    contact = {k: v for k, v in contact.items() if v is not None}
    if _lines(form.get("email_domains", "")):
        contact["email_domains"] = _lines(form.get("email_domains", ""))
    if form.get("min_open_cases", "").strip():
        contact["min_open_cases"] = form.get("min_open_cases").strip()
    if contact:
        conditions["contact"] = contact
    kind = form.get("target_kind", "queue")
    target = form.get(f"target_{kind}", "")
    actions: dict = {kind: target} if kind in ("queue", "department") and target else {}
    if form.get("priority"):
        actions["priority"] = form["priority"]
    skills = {"categories": form.getlist("skill_categories"),
              "languages": _lines(form.get("skill_languages", ""))}
    skills = {k: v for k, v in skills.items() if v}
    if skills:
        actions["required_skills"] = skills
    return {"name": form.get("name", ""), "position": form.get("position", ""),
            "conditions": conditions, "actions": actions}


def _choices() -> dict:
    session = db.session
    choices = {"channels": list(Channel), "priorities": list(Priority), "weekdays": WEEKDAYS,
               "categories": session.execute(select(Category.slug, Category.name)
                                             .order_by(Category.name)).all(),
               "queues": session.execute(select(Queue.slug, Queue.name)
                                         .order_by(Queue.name)).all(),
               "departments": session.execute(select(Department.slug, Department.name)
                                              .order_by(Department.name)).all()}
    # Queue and department names by slug, for a rule's actions in words.
    choices["target_names"] = {"queue": dict(choices["queues"]),
                               "department": dict(choices["departments"])}
    return choices


def _save_rule(rule_id: int | None):
    """Create (rule_id None) or edit a rule through the service; 422 with field errors."""
    document = _rule_input(request.form)
    data, errors = _load(RuleInSchema(), document)
    if data is not None:
        try:
            if rule_id is None:
                saved = rules.create_rule(db.session, current_principal(), data)
            else:
                saved = rules.edit_rule(db.session, current_principal(), rule_id, data)
        except AppError as error:
            if not error.errors:
                raise
            db.session.rollback()
            errors = _errors(error.errors)
        else:
            return redirect(url_for("routing_pages.rule_list", saved=saved.rule_id))
    versions = rules.rule_versions(db.session, rule_id) if rule_id else []
    return render_template("routing/rule_form.html", rule_id=rule_id, rule=document,
                           errors=errors, versions=_with_changes(versions),
                           **_choices()), 422


def _with_changes(versions) -> list[tuple]:
    """Each version with the parts that differ from the one before it."""
    rows, before = [], None
    for version in versions:
        parts = ["name", "position", "conditions", "actions"]
        changed = [] if before is None else [
            p for p in parts if getattr(version, p) != getattr(before, p)]
        rows.append((version, changed))
        before = version
    return rows


def _list_page(status: int = 200, trial: dict | None = None, result: dict | None = None,
               errors: dict | None = None):
    live = rules.current_rules(db.session)
    choices = _choices()
    return render_template("routing/rules.html", rules=live, trial=trial or {},
                           queue_names=dict(choices["queues"]),
                           target_names=choices["target_names"],
                           department_names=dict(choices["departments"]),
                           result=result, errors=errors or {}, channels=list(Channel),
                           saved=request.args.get("saved", type=int),
                           moved=request.args.get("moved", type=int)), status


@bp.route("/admin/routing-rules")
@login_required
def rule_list():
    """The live rules in the order they are tried, each movable, and the Testa box."""
    current_principal().require(SCOPE)
    return _list_page()


@bp.route("/admin/routing-rules/test", methods=["POST"])
@login_required
def rule_test():
    """A dry run of the router for a subject, channel and sender; nothing is stored."""
    current_principal().require(SCOPE)
    trial = {k: request.form.get(k, "") for k in ("subject", "channel", "sender")}
    data, errors = _load(DryRunInSchema(), {**trial, "sender": trial["sender"] or None})
    if data is not None:
        try:
            return _list_page(trial=trial, result=service.dry_run(db.session, **data))
        except AppError as error:
            if not error.errors:
                raise
            errors = _errors(error.errors)
    return _list_page(422, trial=trial, errors=errors)


@bp.route("/admin/routing-rules/<int:rule_id>/move", methods=["POST"])
@login_required
def rule_move(rule_id: int):
    """Move a rule one step up or down (the service the API's move endpoint calls)."""
    current_principal().require(SCOPE)
    rules.move_rule(db.session, current_principal(), rule_id, request.form.get("direction", ""))
    return redirect(url_for("routing_pages.rule_list", moved=rule_id, _anchor=f"rule-{rule_id}"))


@bp.route("/admin/routing-rules/new", methods=["GET", "POST"])
@login_required
def rule_new():
    current_principal().require(SCOPE)
    if request.method == "POST":
        return _save_rule(None)
    last = rules.current_rules(db.session)
    document = {"name": "", "position": (last[-1].position + 10) if last else 10,
                "conditions": {}, "actions": {}}
    return render_template("routing/rule_form.html", rule_id=None, rule=document, errors={},
                           versions=[], **_choices())


@bp.route("/admin/routing-rules/<int:rule_id>", methods=["GET", "POST"])
@login_required
def rule_edit(rule_id: int):
    """Edit a rule (a new version) and see its versions side by side."""
    current_principal().require(SCOPE)
    if request.method == "POST":
        return _save_rule(rule_id)
    current = rules.get_rule(db.session, rule_id)
    document = {"name": current.name, "position": current.position,
                "conditions": current.conditions, "actions": current.actions}
    return render_template("routing/rule_form.html", rule_id=rule_id, rule=document, errors={},
                           versions=_with_changes(rules.rule_versions(db.session, rule_id)),
                           **_choices())


@bp.route("/admin/routing-rules/<int:rule_id>/retire", methods=["POST"])
@login_required
def rule_retire(rule_id: int):
    """Stop using a rule, as DELETE /api/v1/routing/rules/<id> does."""
    current_principal().require(SCOPE)
    rules.retire_rule(db.session, current_principal(), rule_id)
    return redirect(url_for("routing_pages.rule_list"))


def _queues_page(status: int = 200, errors: dict | None = None, slug: str | None = None,
                 typed: dict | None = None):
    policies = escalation.list_policies(db.session)
    slugs = {q.id: q.slug for q, _ in policies}
    names = {q.slug: q.name for q, _ in policies}
    defaults = [(Channel(d["channel"]), d["queue"])
                for d in channel_defaults.list_defaults(db.session)]
    shown = dict((c.value, q) for c, q in defaults)
    changed = request.args.get("default_saved")
    default_saved = t("queues.defaults_saved", channel=t(f"case.channel.{changed}"),
                      queue=names.get(shown[changed], "")) if shown.get(changed) else None
    return render_template("routing/queues.html", policies=policies, slugs=slugs, names=names,
                           defaults=defaults, errors=errors or {}, error_slug=slug,
                           typed=typed or {}, saved=request.args.get("saved"),
                           default_saved=default_saved), status


@bp.route("/admin/queues")
@login_required
def queues():
    """Each queue's timeout and what follows it; the channels' default queues."""
    current_principal().require(SCOPE)
    return _queues_page()


@bp.route("/admin/queues/<slug>", methods=["POST"])
@login_required
def queue_save(slug: str):
    """Set a queue's policy through the service behind PUT /api/v1/routing/queues/<slug>."""
    current_principal().require(SCOPE)
    form = request.form
    typed = {"timeout": form.get("timeout", "").strip(), "overflow": form.get("overflow", ""),
             "raise_priority": form.get("raise_priority") == "yes"}
    errors: dict[str, str] = {}
    timeout_s = None
    if typed["timeout"]:
        try:
            timeout_s = int(typed["timeout"]) * 60
        except ValueError:
            errors["timeout"] = t("routing.error.timeout")
    if not errors:
        data, errors = _load(QueuePolicyInSchema(), {
            "timeout_s": timeout_s, "overflow_queue": typed["overflow"] or None,
            "raise_priority": typed["raise_priority"]})
    if not errors:
        try:
            escalation.set_policy(db.session, current_principal(), slug, data)
        except AppError as error:
            if not error.errors:
                raise
            db.session.rollback()
            errors = _errors(error.errors)
        else:
            return redirect(url_for("routing_pages.queues", saved=slug, _anchor=f"queue-{slug}"))
    return _queues_page(422, errors, slug, typed)


@bp.route("/admin/queues/channel-defaults/<channel>", methods=["POST"])
@login_required
def channel_default_save(channel: str):
    """Set a channel's default queue (the service behind PUT /api/v1/routing/channel-defaults)."""
    current_principal().require(SCOPE)
    queue = request.form.get("queue", "")
    try:
        channel_defaults.set_default(db.session, current_principal(), channel, queue)
    except NotFound:  # a queue not in the list (removed since the page was read)
        db.session.rollback()
        return _queues_page(422, {"default_queue": t("queues.error.default_queue")},
                            f"channel:{channel}", {"default_queue": queue})
    return redirect(url_for("routing_pages.queues", default_saved=channel,
                            _anchor="defaults-heading"))
