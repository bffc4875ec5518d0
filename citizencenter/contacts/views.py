from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.contacts import service
from citizencenter.contacts.schemas import ProtectedContactSchema, ProtectionSchema

blp = Blueprint("contacts", __name__, url_prefix="/api/v1/contacts",
                description="Contacts: protected identity (supervisors, admins)")


@blp.route("/<int:contact_id>/protection")
class ContactProtection(MethodView):
    @require_scope("contacts:protect")
    @blp.arguments(ProtectionSchema)
    @blp.response(200, ProtectedContactSchema)
    def put(self, data, contact_id):
        """Mark a contact's identity protected; its cases then show only to the permitted"""
        return service.protect(db.session, current_principal().actor, contact_id, data["kind"])

    @require_scope("contacts:protect")
    @blp.response(204)
    def delete(self, contact_id):
        """Lift a contact's protected identity"""
        service.unprotect(db.session, current_principal().actor, contact_id)
