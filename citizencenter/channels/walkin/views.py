from flask import current_app, url_for
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.cases.schemas import CaseSchema
from citizencenter.channels.walkin import service
from citizencenter.channels.walkin.schemas import WalkInCreateSchema
from citizencenter.idempotency import idempotent

blp = Blueprint("walkin", __name__, url_prefix="/api/v1/walk-ins",
                description="Visits at the service points")


@blp.route("")
class WalkIns(MethodView):
    @require_scope("cases:write")
    @idempotent
    @blp.arguments(WalkInCreateSchema)
    @blp.response(201, CaseSchema)
    def post(self, data):
        """Register a visit at a service point"""
        case = service.register_visit(db.session, current_principal(),
                                      default_minutes=current_app.config["WALKIN_DEFAULT_MINUTES"],
                                      **data)
        return case, {"ETag": f'"{case.version}"',
                      "Location": url_for("cases.CaseById", case_id=case.id)}
