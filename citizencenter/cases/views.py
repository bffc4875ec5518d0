import uuid

from flask import jsonify, url_for
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, etag, if_match_version, paginator
from citizencenter.auth import current_principal, require_scope
from citizencenter.cases import identity, marking, service
from citizencenter.cases.schemas import (
    CaseCreateSchema,
    CaseListSchema,
    CasePageSchema,
    CaseQueryArgsSchema,
    CaseSchema,
    CaseUpdateSchema,
    ConfidentialityInSchema,
    ConfidentialitySchema,
    IdentityNumberRevealSchema,
    IdentityNumberSearchSchema,
    MessageCreateSchema,
    MessagePageSchema,
    MessageSchema,
    RevealedNumbersSchema,
    dump_case_page,
    dump_list_item,
)
from citizencenter.idempotency import idempotent
from citizencenter.pagination import PageArgsSchema

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases",
                description="Cases (ärenden) and their conversations")


@blp.route("")
class Cases(MethodView):
    @require_scope("cases:read")
    @blp.arguments(CaseQueryArgsSchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """List cases, newest first (a search most relevant first, unless sort=newest)"""
        # The answer CasePageSchema documents, dumped without marshmallow's per-row work.
        page = service.list_cases(db.session, current_principal(), paginator(), **args)
        return jsonify(dump_case_page(page))

    @require_scope("cases:write")
    @idempotent
    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseSchema)
    def post(self, data):
        """Open a case"""
        case = service.open_case(db.session, current_principal(), **data)
        return case, {**etag(case), "Location": url_for("cases.CaseById", case_id=case.id)}


@blp.route("/<uuid:case_id>")
class CaseById(MethodView):
    @require_scope("cases:read")
    @blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID):
        """Read a case; its ETag goes in If-Match when you change it"""
        case = service.read_case(db.session, current_principal(), case_id)
        return case, etag(case)

    @require_scope("cases:write")
    @blp.arguments(CaseUpdateSchema)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": True,
                          "schema": {"type": "string"}}])
    def patch(self, changes, case_id: uuid.UUID):
        """Change a case: status, priority, subject, category, queue, assignee or diarienummer"""
        case = service.update_case(db.session, current_principal(), case_id,
                                   if_match_version(), changes)
        return case, etag(case)


@blp.route("/<uuid:case_id>/messages")
class CaseMessages(MethodView):
    @require_scope("cases:read")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, args, case_id: uuid.UUID):
        """The conversation of a case, oldest first"""
        return service.list_messages(db.session, current_principal(), case_id, paginator(),
                                     **args)

    @require_scope("cases:write")
    @idempotent
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, MessageSchema)
    def post(self, data, case_id: uuid.UUID):
        """Add an inbound message, an outbound reply or an internal note"""
        return service.add_message(db.session, current_principal(), case_id, **data)


@blp.route("/by-identity-number")
class CasesByIdentityNumber(MethodView):
    @require_scope("cases:read")
    @blp.arguments(IdentityNumberSearchSchema)
    @blp.response(200, CaseListSchema)
    def post(self, data):
        """The cases where a personnummer was found (in the body, never in a URL)"""
        rows = identity.cases_of_number(db.session, current_principal(), data["personnummer"])
        return jsonify({"items": [dump_list_item(row) for row in rows]})


@blp.route("/<uuid:case_id>/identity-numbers/reveal")
class CaseIdentityNumbers(MethodView):
    @require_scope("cases:read")
    @blp.arguments(IdentityNumberRevealSchema)
    @blp.response(200, RevealedNumbersSchema)
    def post(self, data, case_id: uuid.UUID):
        """Reveal the personnummer found on a case; the reason is audited"""
        return {"items": identity.reveal_numbers(db.session, current_principal(), case_id,
                                                 **data)}


@blp.route("/<uuid:case_id>/confidentiality")
class CaseConfidentiality(MethodView):
    @require_scope("cases:read")
    @blp.response(200, ConfidentialitySchema)
    def get(self, case_id: uuid.UUID):
        """Whether the case is confidential (sekretess), and under which provision"""
        return marking.marking(db.session, current_principal(), case_id)

    @require_scope("cases:write")
    @blp.arguments(ConfidentialityInSchema)
    @blp.response(200, ConfidentialitySchema)
    def put(self, data, case_id: uuid.UUID):
        """Mark the case confidential under an OSL provision; audited"""
        return marking.mark(db.session, current_principal(), case_id, data["reason"])

    @require_scope("cases:write")
    @blp.response(200, ConfidentialitySchema)
    def delete(self, case_id: uuid.UUID):
        """Lift the confidentiality marking; audited"""
        return marking.unmark(db.session, current_principal(), case_id)
