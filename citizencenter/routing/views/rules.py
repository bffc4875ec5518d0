"""Rules and queue policies: what supervisors and admins set up."""

from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.pagination import Page
from citizencenter.routing import channel_defaults, escalation, rules, service
from citizencenter.routing.schemas import (
    ChannelDefaultInSchema,
    ChannelDefaultPageSchema,
    ChannelDefaultSchema,
    DryRunInSchema,
    DryRunSchema,
    MoveSchema,
    QueuePolicyInSchema,
    QueuePolicyPageSchema,
    QueuePolicySchema,
    RuleInSchema,
    RulePageSchema,
    RuleSchema,
)

blp = Blueprint("routing", __name__, url_prefix="/api/v1/routing",
                description="Routing rules and queue timeouts")


def _policy(queue, policy) -> dict:
    overflow = db.session.get(type(queue), policy.overflow_queue_id) \
        if policy.overflow_queue_id else None
    return {"queue": queue.slug, "timeout_s": policy.timeout_s,
            "overflow_queue": overflow.slug if overflow else None,
            "raise_priority": bool(policy.raise_priority)}


@blp.route("/rules")
class Rules(MethodView):
    @require_scope("routing:read")
    @blp.response(200, RulePageSchema)
    def get(self):
        """The live rules in the order they are tried; the first match wins"""
        return Page(rules.current_rules(db.session))

    @require_scope("routing:write")
    @blp.arguments(RuleInSchema)
    @blp.response(201, RuleSchema)
    def post(self, data):
        """Add a rule"""
        return rules.create_rule(db.session, current_principal(), data)


@blp.route("/rules/<int:rule_id>")
class RuleById(MethodView):
    @require_scope("routing:read")
    @blp.response(200, RuleSchema)
    def get(self, rule_id: int):
        """A rule's current version"""
        return rules.get_rule(db.session, rule_id)

    @require_scope("routing:write")
    @blp.arguments(RuleInSchema)
    @blp.response(200, RuleSchema)
    def put(self, data, rule_id: int):
        """Edit a rule: a new version; cases keep naming the version that routed them"""
        return rules.edit_rule(db.session, current_principal(), rule_id, data)

    @require_scope("routing:write")
    @blp.response(204)
    def delete(self, rule_id: int):
        """Retire a rule (its versions stay readable)"""
        rules.retire_rule(db.session, current_principal(), rule_id)


@blp.route("/rules/<int:rule_id>/move")
class RuleMove(MethodView):
    @require_scope("routing:write")
    @blp.arguments(MoveSchema)
    @blp.response(200, RulePageSchema)
    def post(self, data, rule_id: int):
        """Move a rule one step up or down the order (a new version of each rule moved)"""
        return Page(rules.move_rule(db.session, current_principal(), rule_id,
                                    data["direction"]))


@blp.route("/rules/dry-run")
class RuleDryRun(MethodView):
    @require_scope("routing:read")
    @blp.arguments(DryRunInSchema)
    @blp.response(200, DryRunSchema)
    def post(self, data):
        """Which rule would route such a case where, and why; nothing is stored"""
        return service.dry_run(db.session, **data)


@blp.route("/rules/<int:rule_id>/versions")
class RuleVersions(MethodView):
    @require_scope("routing:read")
    @blp.response(200, RulePageSchema)
    def get(self, rule_id: int):
        """Every version of a rule, oldest first"""
        return Page(rules.rule_versions(db.session, rule_id))


@blp.route("/queues")
class QueuePolicies(MethodView):
    @require_scope("routing:read")
    @blp.response(200, QueuePolicyPageSchema)
    def get(self):
        """Every queue's timeout and overflow"""
        return Page([_policy(q, p) for q, p in escalation.list_policies(db.session)])


@blp.route("/queues/<slug>")
class QueuePolicyBySlug(MethodView):
    @require_scope("routing:write")
    @blp.arguments(QueuePolicyInSchema)
    @blp.response(200, QueuePolicySchema)
    def put(self, data, slug: str):
        """Set how long a case waits in the queue and where it goes next"""
        return _policy(*escalation.set_policy(db.session, current_principal(), slug, data))


@blp.route("/channel-defaults")
class ChannelDefaults(MethodView):
    @require_scope("routing:read")
    @blp.response(200, ChannelDefaultPageSchema)
    def get(self):
        """Each channel's default queue: where a case goes when no rule names a queue"""
        return Page(channel_defaults.list_defaults(db.session))


@blp.route("/channel-defaults/<channel>")
class ChannelDefaultByChannel(MethodView):
    @require_scope("routing:write")
    @blp.arguments(ChannelDefaultInSchema)
    @blp.response(200, ChannelDefaultSchema)
    def put(self, data, channel: str):
        """Set a channel's default queue (the next case no rule places goes there)"""
        return channel_defaults.set_default(db.session, current_principal(), channel,
                                            data["queue"])
