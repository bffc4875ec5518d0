"""Guides as routing sees them (/admin/guides, supervisors): skills, capacity per channel,
queues, service point, the phone system's agent id and the last presence changes. A change
is the one PATCH /api/v1/routing/guides/<id> makes (routing.presence.update_profile).

Here rather than under accounts: the page reads routing, the organisation and the phone
channel, which sit above accounts."""

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from citizencenter import db
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import Channel
from citizencenter.channels.phone.models import PbxAgent
from citizencenter.errors import InvalidInput, NotFound
from citizencenter.organisation.models import Category, Queue, ServicePoint
from citizencenter.routing import assignment, presence
from citizencenter.routing import service as routing_service
from citizencenter.web import PageBlueprint, current_principal, login_required
from citizencenter.web.pages import ADMIN_SECTIONS

bp = PageBlueprint("guides_admin", __name__, template_folder="../templates")
ADMIN_SECTIONS.append(("guides_admin.guides", "admin.section.guides", "routing:write"))
HISTORY = 5  # presence changes shown per guide


def _presence_history(user_ids: list[int]) -> dict[int, list[AuditEntry]]:
    """The newest presence changes per guide, as the audit trail keeps them."""
    history: dict[int, list[AuditEntry]] = {uid: [] for uid in user_ids}
    rows = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "guide.presence_changed", AuditEntry.entity_type == "user",
        AuditEntry.entity_id.in_([str(uid) for uid in user_ids]))
        .order_by(AuditEntry.id.desc()).limit(50 * max(len(user_ids), 1)))
    for row in rows:
        kept = history.get(int(row.entity_id))
        if kept is not None and len(kept) < HISTORY:
            kept.append(row)
    return history


def _guides_context() -> dict:
    guides = routing_service.describe_profiles(db.session, presence.list_profiles(db.session))
    agents: dict[int, list[str]] = {}
    for agent_id, user_id in db.session.execute(select(PbxAgent.agent_id, PbxAgent.user_id)):
        agents.setdefault(user_id, []).append(agent_id)
    return {"guides": guides, "agents": agents, "channels": list(Channel),
            "history": _presence_history([g["user_id"] for g in guides])}


@bp.get("/admin/guides")
@login_required
def guides():
    """Every guide's skills, capacity per channel, queues, service point and presence."""
    current_principal().require("routing:write")
    context = _guides_context()
    handed = request.args.get("handed_back", type=int)
    context["handed_back"] = next((g for g in context["guides"] if g["user_id"] == handed),
                                  None)
    context["handed_back_count"] = request.args.get("count", 0, type=int)
    return render_template("workspace/guides/guides.html", **context)


def _guide_form_context(user_id: int) -> dict:
    profiles = [p for p in presence.list_profiles(db.session) if p.user_id == user_id]
    if not profiles:
        raise NotFound("No guide profile.")
    return {"guide": routing_service.describe_profiles(db.session, profiles)[0],
            "held": assignment.unresolved_count(db.session, user_id),
            "channels": list(Channel),
            "categories": db.session.execute(select(Category.slug, Category.name)
                                             .order_by(Category.name)).all(),
            "queues": db.session.execute(select(Queue.slug, Queue.name)
                                         .order_by(Queue.name)).all(),
            "points": db.session.execute(select(ServicePoint.slug, ServicePoint.name)
                                         .order_by(ServicePoint.name)).all()}


def _guide_changes(form) -> tuple[dict, dict]:
    """The PATCH body the form stands for, and the field errors of what cannot be read."""
    errors, capacities = {}, {}
    for channel in Channel:
        raw = form.get(f"capacity-{channel.value}", "").strip()
        if not raw.isdigit() or not 0 <= int(raw) <= 50:
            errors[f"capacity-{channel.value}"] = "guides.error.capacity"
        else:
            capacities[channel.value] = int(raw)
    languages = sorted({x.strip().lower() for x in form.get("languages", "").split(",")
                        if x.strip()})
    if any(not (2 <= len(x) <= 8 and x.replace("-", "").isalpha()) for x in languages):
        errors["languages"] = "guides.error.languages"
    changes = {"skills": {"categories": form.getlist("categories"), "languages": languages,
                          "channels": [Channel(c) for c in form.getlist("channels")
                                       if c in set(Channel)]},
               "capacities": capacities, "queues": form.getlist("queues"),
               "service_point": form.get("service_point") or None}
    return changes, errors


@bp.route("/admin/guides/<int:user_id>", methods=["GET", "POST"])
@login_required
def guide(user_id: int):
    """Edit one guide: the same change as PATCH /api/v1/routing/guides/<id>."""
    current_principal().require("routing:write")
    context = _guide_form_context(user_id)
    if request.method == "GET":
        return render_template("workspace/guides/guide.html", errors={}, **context)
    changes, errors = _guide_changes(request.form)
    if not errors:
        try:
            presence.update_profile(db.session, current_principal(), user_id, changes)
        except InvalidInput as exc:
            db.session.rollback()
            errors = {exc.errors[0]["field"].split(".")[-1]: "guides.error.unknown"}
        else:
            return redirect(url_for("guides_admin.guides", saved=user_id))
    typed = {**context["guide"], "skills": {k: [str(v) for v in vals] for k, vals in
                                            changes["skills"].items()},
             "capacities": {k: request.form.get(f"capacity-{k}", "") for k in
                            (c.value for c in Channel)},
             "queues": changes["queues"], "service_point": changes["service_point"]}
    return render_template("workspace/guides/guide.html", **{**context, "guide": typed},
                           errors=errors), 422


@bp.post("/admin/guides/<int:user_id>/hand-back")
@login_required
def hand_back(user_id: int):
    """Sign the guide off and put their cases back in the queues: the same step as
    POST /api/v1/routing/guides/<id>/hand-back."""
    count = assignment.hand_back(db.session, current_principal(), user_id)
    return redirect(url_for("guides_admin.guides", handed_back=user_id, count=count))
