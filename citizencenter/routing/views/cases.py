"""Routing as seen from one case: its decisions, forwarding it, and sending it back."""

import uuid
from datetime import timedelta

from flask import current_app
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, paginator
from citizencenter.auth import current_principal, require_scope
from citizencenter.cases.schemas import CaseSchema
from citizencenter.idempotency import idempotent
from citizencenter.pagination import PageArgsSchema
from citizencenter.routing import decisions, forwarding
from citizencenter.routing.schemas import (
    DecisionPageSchema,
    ForwardingSchema,
    ForwardSchema,
    SendBackSchema,
)

blp = Blueprint("case_routing", __name__, url_prefix="/api/v1/cases",
                description="A case's routing history, forwarding and return")


@blp.route("/<uuid:case_id>/routing")
class CaseRouting(MethodView):
    @require_scope("cases:read")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, DecisionPageSchema)
    def get(self, args, case_id: uuid.UUID):
        """Every routing decision on the case: rule, candidates, chosen guide, reason"""
        return decisions.for_case(db.session, current_principal(), case_id, paginator(),
                                  **args)


@blp.route("/<uuid:case_id>/forward")
class CaseForward(MethodView):
    @require_scope("cases:write")
    @idempotent
    @blp.arguments(ForwardSchema)
    @blp.response(201, ForwardingSchema)
    def post(self, data, case_id: uuid.UUID):
        """Forward the case to a department with a note; the department is notified"""
        return forwarding.forward(db.session, current_principal(), case_id, data["department"],
                                  data.get("note"))


@blp.route("/<uuid:case_id>/send-back")
class CaseSendBack(MethodView):
    @require_scope("cases:write")
    @idempotent
    @blp.arguments(SendBackSchema)
    @blp.response(200, CaseSchema)
    def post(self, data, case_id: uuid.UUID):
        """The department sends the case back to the centre's queue"""
        return forwarding.send_back(db.session, current_principal(), case_id, data.get("note"),
                                    timedelta(hours=current_app.config["ROUTING_STICKY_HOURS"]))
