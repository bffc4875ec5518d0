import uuid

from flask import url_for
from flask.views import MethodView

from citizencenter import db
from citizencenter.answers import service
from citizencenter.answers.schemas import (
    PreviewSchema,
    TemplateChangeSchema,
    TemplateCreateSchema,
    TemplatePageSchema,
    TemplateQueryArgsSchema,
    TemplateReplySchema,
    TemplateSchema,
)
from citizencenter.api import Blueprint, paginator
from citizencenter.auth import current_principal, require_scope
from citizencenter.cases.schemas import MessageSchema
from citizencenter.idempotency import idempotent

blp = Blueprint("answers", __name__, url_prefix="/api/v1",
                description="Answer templates (svarsmallar) and replies sent with them")


@blp.route("/answer-templates")
class Templates(MethodView):
    @require_scope("cases:read")
    @blp.arguments(TemplateQueryArgsSchema, location="query")
    @blp.response(200, TemplatePageSchema)
    def get(self, args):
        """List answer templates by name"""
        return service.list_templates(db.session, paginator(), **args)

    @require_scope("cases:write")
    @blp.arguments(TemplateCreateSchema)
    @blp.response(201, TemplateSchema)
    def post(self, data):
        """Add an answer template (supervisors and admins)"""
        template = service.create_template(db.session, current_principal(), data)
        return template, {"Location": url_for("answers.TemplateById",
                                              template_id=template.id)}


@blp.route("/answer-templates/<int:template_id>")
class TemplateById(MethodView):
    @require_scope("cases:read")
    @blp.response(200, TemplateSchema)
    def get(self, template_id: int):
        """Read an answer template"""
        return service.get_template(db.session, template_id)

    @require_scope("cases:write")
    @blp.arguments(TemplateChangeSchema)
    @blp.response(200, TemplateSchema)
    def patch(self, changes, template_id: int):
        """Change an answer template (supervisors and admins)"""
        return service.change_template(db.session, current_principal(), template_id, changes)

    @require_scope("cases:write")
    @blp.response(204)
    def delete(self, template_id: int):
        """Delete an answer template (supervisors and admins)"""
        service.delete_template(db.session, current_principal(), template_id)


@blp.route("/cases/<uuid:case_id>/answer-templates/<int:template_id>/preview")
class TemplatePreview(MethodView):
    @require_scope("cases:read")
    @blp.response(200, PreviewSchema)
    def post(self, case_id: uuid.UUID, template_id: int):
        """The template filled for the case, to read or edit before sending"""
        return service.preview(db.session, current_principal(), case_id, template_id)


@blp.route("/cases/<uuid:case_id>/answer-templates/<int:template_id>/replies")
class TemplateReplies(MethodView):
    @require_scope("cases:write")
    @idempotent
    @blp.arguments(TemplateReplySchema)
    @blp.response(201, MessageSchema)
    def post(self, data, case_id: uuid.UUID, template_id: int):
        """Send a reply answered with the template; the message records which template"""
        return service.reply_with_template(db.session, current_principal(), case_id,
                                           template_id, data.get("body"))
