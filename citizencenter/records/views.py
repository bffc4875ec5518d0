import uuid

from flask import Response
from flask.views import MethodView

from citizencenter import db
from citizencenter.api import Blueprint
from citizencenter.auth import current_principal, require_scope
from citizencenter.records import service

blp = Blueprint("records", __name__, url_prefix="/api/v1/cases",
                description="Allmän handling: a case as a document for the records system")

# A download, opened later from disk or the archive: no script, nothing fetched, inline
# style only (the document's own <meta> says the same where no header reaches it).
ARCHIVE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def archive_response(document: service.ArchiveDocument) -> Response:
    """The document as a download (the API's answer and the case page's link)."""
    return Response(document.html, mimetype="text/html", headers={
        **ARCHIVE_HEADERS,
        "Content-Disposition": f'attachment; filename="{document.filename}"'})


@blp.route("/<uuid:case_id>/archive")
class CaseArchive(MethodView):
    @require_scope("cases:read")
    @blp.response(200, {"type": "string"}, content_type="text/html")
    def get(self, case_id: uuid.UUID):
        """The case as one archival HTML document, for registration (allmän handling)"""
        return archive_response(service.archive_case(db.session, current_principal(), case_id))
