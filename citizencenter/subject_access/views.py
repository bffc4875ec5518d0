import io

from flask import send_file
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.subject_access import service
from citizencenter.subject_access.schemas import (
    ErasureReportSchema,
    ErasureRequestSchema,
    PersonSchema,
)

blp = Blueprint("subject_access", __name__, url_prefix="/api/v1/personal-data",
                description="One person's data: exported for them, or erased (admins)")


@blp.route("/export")
class PersonalDataExport(MethodView):
    @require_scope(service.EXPORT_SCOPE)
    @blp.arguments(PersonSchema)
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="application/zip")
    def post(self, data):
        """Everything held about one person as a ZIP archive: a JSON document and their
        files (the identifier in the body, never in a URL; audited)"""
        content = service.export_person(db.session, current_principal(), **data)
        return send_file(io.BytesIO(content), mimetype="application/zip", as_attachment=True,
                         download_name="personal-data.zip")


@blp.route("/erasure")
class PersonalDataErasure(MethodView):
    @require_scope(service.ERASE_SCOPE)
    @blp.arguments(ErasureRequestSchema)
    @blp.response(200, ErasureReportSchema)
    def post(self, data):
        """Erase one person's data where no legal hold, open case or retention rule keeps
        it; answers what was erased and what was kept and why (dry_run: erase nothing)"""
        return service.erase_person(db.session, current_principal(), **data)
