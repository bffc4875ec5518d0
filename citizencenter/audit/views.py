from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint, paginator
from citizencenter.audit import service
from citizencenter.audit.schemas import AuditPageSchema, AuditQueryArgsSchema
from citizencenter.auth import current_principal, require_scope

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                description="The audit trail: reads of cases and changes to settings (admins)")


@blp.route("")
class AuditEntries(MethodView):
    @require_scope(service.AUDIT_SCOPE)
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """Page through the audit trail, newest first"""
        return service.list_entries(db.session, current_principal(), paginator(), **args)
