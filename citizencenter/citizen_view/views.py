import uuid

import marshmallow as ma
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.citizen_view import service

blp = Blueprint("citizen_view_api", __name__, url_prefix="/api/v1/cases",
                description="The citizen's own view of a case (/mitt-arende/<token>)")


class CitizenLinkRevokedSchema(ma.Schema):
    revoked_at = ma.fields.DateTime(metadata={
        "description": "Links to the case issued up to this moment are refused"})


@blp.route("/<uuid:case_id>/citizen-link/revoke")
class CitizenLinkRevoke(MethodView):
    @require_scope("cases:write")
    @blp.response(200, CitizenLinkRevokedSchema)
    def post(self, case_id: uuid.UUID):
        """Revoke the citizen's links to the case (e.g. sent to a wrong address); audited"""
        return {"revoked_at": service.revoke(db.session, current_principal(), case_id)}
