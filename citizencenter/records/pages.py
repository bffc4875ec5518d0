"""The case page's link to the archival document (`/cases/<id>/archive`), signed in."""

import uuid

from citizencenter import db
from citizencenter.records import service
from citizencenter.records.views import archive_response
from citizencenter.web import PageBlueprint, current_principal, login_required

bp = PageBlueprint("records_pages", __name__)


@bp.route("/cases/<uuid:case_id>/archive")
@login_required
def archive(case_id: uuid.UUID):
    return archive_response(service.archive_case(db.session, current_principal(), case_id))
