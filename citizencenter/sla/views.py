import uuid

from flask import request, url_for
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, if_match_version, paginator
from citizencenter.auth import current_principal, require_scope
from citizencenter.pagination import PageArgsSchema
from citizencenter.sla import policies, queries
from citizencenter.sla.calendars import service as calendars
from citizencenter.sla.calendars.schemas import (
    CalendarBodySchema,
    CalendarCreateSchema,
    CalendarPageSchema,
    CalendarSchema,
)
from citizencenter.sla.schemas import (
    AtRiskArgsSchema,
    AtRiskSchema,
    CaseSlaSchema,
    PolicyChangeSchema,
    PolicyCreateSchema,
    PolicyPageSchema,
    PolicyQueryArgsSchema,
    PolicySchema,
)

blp = Blueprint("sla", __name__, url_prefix="/api/v1",
                description="Service-level targets: business calendars, policies and the "
                            "timers of each case")


@blp.route("/sla/calendars")
class Calendars(MethodView):
    @require_scope("reports:read")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, CalendarPageSchema)
    def get(self, args):
        """List business calendars"""
        return calendars.list_calendars(db.session, paginator(), **args)

    @require_scope("sla:write")
    @blp.arguments(CalendarCreateSchema)
    @blp.response(201, CalendarSchema)
    def post(self, data):
        """Create a business calendar (supervisors and admins)"""
        calendar = calendars.create_calendar(db.session, current_principal(), data)
        return calendar, {"Location": url_for("sla.CalendarBySlug", slug=calendar.slug)}


@blp.route("/sla/calendars/<string:slug>")
class CalendarBySlug(MethodView):
    @require_scope("reports:read")
    @blp.response(200, CalendarSchema)
    def get(self, slug: str):
        """Read a calendar's current hours and its versions (ETag: the current version)"""
        calendar = calendars.get_calendar(db.session, slug)
        return calendar, {"ETag": f'"{calendar.current_version}"'}

    @require_scope("sla:write")
    @blp.arguments(CalendarBodySchema)
    @blp.response(200, CalendarSchema)
    def put(self, data, slug: str):
        """Replace a calendar's hours; changed hours become a new version.

        With If-Match (the ETag of a read) the change is refused with 412 when the hours
        changed since."""
        calendar = calendars.replace_calendar(db.session, current_principal(), slug, data,
                                              expected_version=if_match_version())
        return calendar, {"ETag": f'"{calendar.current_version}"'}


@blp.route("/sla/policies")
class Policies(MethodView):
    @require_scope("reports:read")
    @blp.arguments(PolicyQueryArgsSchema, location="query")
    @blp.response(200, PolicyPageSchema)
    def get(self, args):
        """List SLA policies"""
        return policies.list_policies(db.session, paginator(), **args)

    @require_scope("sla:write")
    @blp.arguments(PolicyCreateSchema)
    @blp.response(201, PolicySchema)
    def post(self, data):
        """Create an SLA policy (supervisors and admins)"""
        policy = policies.create_policy(db.session, current_principal(), data)
        return policy, {"Location": url_for("sla.PolicyBySlug", slug=policy.slug)}


@blp.route("/sla/policies/<string:slug>")
class PolicyBySlug(MethodView):
    @require_scope("reports:read")
    @blp.response(200, PolicySchema)
    def get(self, slug: str):
        """Read an SLA policy (ETag: changes whenever the policy does)"""
        policy = policies.get_policy(db.session, slug)
        return policy, {"ETag": f'"{policies.etag(policy)}"'}

    @require_scope("sla:write")
    @blp.arguments(PolicyChangeSchema)
    @blp.response(200, PolicySchema)
    def patch(self, changes, slug: str):
        """Change an SLA policy; running timers keep their target.

        With If-Match (the ETag of a read) the change is refused with 412 when the policy
        changed since; without it the change is made as it comes."""
        header = request.headers.get("If-Match")
        expected = header.strip().removeprefix("W/").strip('"') if header is not None else None
        policy = policies.update_policy(db.session, current_principal(), slug, changes,
                                        expected_etag=expected)
        return policy, {"ETag": f'"{policies.etag(policy)}"'}


@blp.route("/cases/<uuid:case_id>/sla")
class CaseSla(MethodView):
    @require_scope("cases:read")
    @blp.response(200, CaseSlaSchema)
    def get(self, case_id: uuid.UUID):
        """The SLA timers of a case and the ledger that explains them"""
        return queries.case_sla(db.session, current_principal(), case_id)


@blp.route("/sla/at-risk")
class AtRisk(MethodView):
    @require_scope("reports:read")
    @blp.arguments(AtRiskArgsSchema, location="query")
    @blp.response(200, AtRiskSchema)
    def get(self, args):
        """Cases whose open timers breached or are about to, with the ledger of each timer"""
        return queries.at_risk(db.session, current_principal(), **args)
