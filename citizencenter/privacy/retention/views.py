from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_any_scope
from citizencenter.privacy.retention import service
from citizencenter.privacy.retention.schemas import (
    LegalHoldCreateSchema,
    LegalHoldListSchema,
    LegalHoldQueryArgsSchema,
    LegalHoldSchema,
    RetentionPlanSchema,
    RetentionRuleChangeSchema,
    RetentionRuleCreateSchema,
    RetentionRuleListSchema,
    RetentionRuleSchema,
)

blp = Blueprint("retention", __name__, url_prefix="/api/v1/retention",
                description="Retention (gallring): rules, legal holds and the plan of the next "
                            "erasure run (supervisors and admins)")
# Supervisors hold sla:write; a token may be given retention:write alone.
SCOPES = (service.RETENTION_SCOPE, "sla:write")


@blp.route("/rules")
class Rules(MethodView):
    @require_any_scope(*SCOPES)
    @blp.response(200, RetentionRuleListSchema)
    def get(self):
        """List the retention rules, most specific first"""
        return {"items": service.list_rules(db.session)}

    @require_any_scope(*SCOPES)
    @blp.arguments(RetentionRuleCreateSchema)
    @blp.response(201, RetentionRuleSchema)
    def post(self, data):
        """Add a retention rule for a category and/or channel (neither: the default)"""
        return service.create_rule(db.session, current_principal().actor, data)


@blp.route("/rules/<int:rule_id>")
class RuleById(MethodView):
    @require_any_scope(*SCOPES)
    @blp.response(200, RetentionRuleSchema)
    def get(self, rule_id: int):
        """Read a retention rule"""
        return service.get_rule(db.session, rule_id)

    @require_any_scope(*SCOPES)
    @blp.arguments(RetentionRuleChangeSchema)
    @blp.response(200, RetentionRuleSchema)
    def patch(self, data, rule_id: int):
        """Change a retention rule"""
        return service.change_rule(db.session, current_principal().actor, rule_id, data)

    @require_any_scope(*SCOPES)
    @blp.response(204)
    def delete(self, rule_id: int):
        """Remove a retention rule"""
        service.delete_rule(db.session, current_principal().actor, rule_id)


@blp.route("/plan")
class Plan(MethodView):
    @require_any_scope(*SCOPES)
    @blp.response(200, RetentionPlanSchema)
    def get(self):
        """What the next run would erase: counts and references per rule (a dry run)"""
        return service.plan(db.session)


@blp.route("/holds")
class Holds(MethodView):
    @require_any_scope(*SCOPES)
    @blp.arguments(LegalHoldQueryArgsSchema, location="query")
    @blp.response(200, LegalHoldListSchema)
    def get(self, args):
        """List legal holds"""
        return {"items": service.list_holds(db.session, **args)}

    @require_any_scope(*SCOPES)
    @blp.arguments(LegalHoldCreateSchema)
    @blp.response(201, LegalHoldSchema)
    def post(self, data):
        """Place a legal hold on a case or a contact: its content is never erased"""
        return service.hold(db.session, current_principal().actor, **data)


@blp.route("/holds/<int:hold_id>")
class HoldById(MethodView):
    @require_any_scope(*SCOPES)
    @blp.response(200, LegalHoldSchema)
    def delete(self, hold_id: int):
        """Release a legal hold"""
        return service.release(db.session, current_principal().actor, hold_id)
