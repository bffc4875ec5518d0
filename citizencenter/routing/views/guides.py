"""Guides as routing sees them: profiles, presence, claiming work; the phone system's question."""

from datetime import timedelta

from flask import current_app
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_any_scope, require_scope
from citizencenter.pagination import Page
from citizencenter.routing import assignment, presence, service
from citizencenter.routing.schemas import (
    ClaimSchema,
    DecideInSchema,
    DecideSchema,
    GuidePageSchema,
    GuideSchema,
    GuideUpdateSchema,
    HandBackSchema,
    PresenceSchema,
)

blp = Blueprint("routing_guides", __name__, url_prefix="/api/v1/routing",
                description="Guides' skills, capacity and presence; claiming and deciding")


def _sticky() -> timedelta:
    return timedelta(hours=current_app.config["ROUTING_STICKY_HOURS"])


@blp.route("/guides")
class Guides(MethodView):
    @require_scope("routing:read")
    @blp.response(200, GuidePageSchema)
    def get(self):
        """Guides with presence, skills, capacity and current load"""
        return Page(service.describe_profiles(db.session, presence.list_profiles(db.session)))


@blp.route("/guides/<int:user_id>")
class GuideById(MethodView):
    @require_scope("routing:write")
    @blp.arguments(GuideUpdateSchema)
    @blp.response(200, GuideSchema)
    def patch(self, changes, user_id: int):
        """Change a guide's skills, capacities per channel, queues or service point"""
        profile = presence.update_profile(db.session, current_principal(), user_id, changes)
        return service.describe_profiles(db.session, [profile])[0]


@blp.route("/guides/<int:user_id>/presence")
class GuidePresence(MethodView):
    @require_scope("cases:write")
    @blp.arguments(PresenceSchema)
    @blp.response(200, GuideSchema)
    def put(self, data, user_id: int):
        """Set presence (your own, or anyone's as a supervisor); available pulls work"""
        profile = presence.set_presence(db.session, current_principal(), user_id,
                                        data["presence"])
        return service.describe_profiles(db.session, [profile])[0]


@blp.route("/guides/<int:user_id>/hand-back")
class GuideHandBack(MethodView):
    @require_scope("routing:write")
    @blp.response(200, HandBackSchema)
    def post(self, user_id: int):
        """Sign a guide off and put their unresolved cases back in their queues"""
        handed_back = assignment.hand_back(db.session, current_principal(), user_id)
        profile = presence.ensure_profile(db.session, user_id)
        return {"handed_back": handed_back,
                "guide": service.describe_profiles(db.session, [profile])[0]}


@blp.route("/claim")
class Claim(MethodView):
    @require_scope("cases:write")
    @blp.response(200, ClaimSchema)
    def post(self):
        """Take the next waiting case you can handle (null when none waits)"""
        return {"case": assignment.claim_next(db.session, current_principal())}


@blp.route("/decide")
class Decide(MethodView):
    @require_any_scope("calls:write", "routing:write")
    @blp.arguments(DecideInSchema)
    @blp.response(200, DecideSchema)
    def post(self, data):
        """Which guide (PBX agent id) should take this call, or none"""
        return service.decide_call(db.session, data["caller"], data["queue"], _sticky())
