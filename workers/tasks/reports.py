from datetime import timedelta

from celery import shared_task
from flask import current_app

from citizencenter import db
from citizencenter.reports import rollups, settings
from citizencenter.sla.calendars.calendar import office_hours_calendar


@shared_task(name="reports.refresh_rollups", acks_late=True, ignore_result=True)
def refresh_rollups() -> dict:
    config = current_app.config
    return rollups.refresh_rollups(
        db.session, settings.definitions(config), office_hours_calendar(),
        overlap=timedelta(seconds=config["ROLLUP_OVERLAP_S"])).summary()
