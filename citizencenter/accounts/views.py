from flask.views import MethodView

from citizencenter import db
from citizencenter.accounts import service
from citizencenter.accounts.schemas import ProtectedAccessSchema
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope

blp = Blueprint("users", __name__, url_prefix="/api/v1/users",
                description="Users: the protected permission (admins)")


@blp.route("/<int:user_id>/protected-access")
class ProtectedAccess(MethodView):
    @require_scope("users:write")
    @blp.response(200, ProtectedAccessSchema)
    def put(self, user_id):
        """Grant a user the protected permission: the cases of protected contacts"""
        return service.set_protected_access(db.session, current_principal().actor, user_id,
                                            True)

    @require_scope("users:write")
    @blp.response(200, ProtectedAccessSchema)
    def delete(self, user_id):
        """Withdraw a user's protected permission"""
        return service.set_protected_access(db.session, current_principal().actor, user_id,
                                            False)
