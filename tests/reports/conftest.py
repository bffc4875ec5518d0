from datetime import timedelta

import pytest
from sqlalchemy import text

from citizencenter import db
from citizencenter.reports import rollups
from citizencenter.reports.settings import definitions
from citizencenter.sla.calendars.calendar import office_hours_calendar
from tests.reports.dataset import generate


def refresh(session, app, **kwargs):
    return rollups.refresh_rollups(session, definitions(app.config), office_hours_calendar(),
                                   overlap=timedelta(minutes=10), **kwargs)


@pytest.fixture(scope="module")
def generated(app, engine):
    """20,000 calls, 5,000 e-mails and more over June 2025 – January 2026, rolled up and
    committed once per module; each test still runs in its own rolled-back transaction."""
    db.session.remove()
    db.session.configure(bind=engine)
    with app.app_context():
        data = generate(db.session)
        refresh(db.session, app)
        db.session.remove()
    yield data
    contacts = ",".join(str(c) for c in {c["contact_id"] for c in data["cases"]} if c)
    with engine.begin() as conn:
        for statement in (
                "DELETE FROM feedback_responses", "DELETE FROM feedback_requests",
                "DELETE FROM calls WHERE source = 'gen'",
                "DELETE FROM cases WHERE reference LIKE 'GEN-%'",
                f"DELETE FROM contacts WHERE id IN ({contacts})",
                "DELETE FROM report_facts", "DELETE FROM rollup_cells",
                "DELETE FROM rollup_days", "DELETE FROM rollup_state"):
            conn.execute(text(statement))
