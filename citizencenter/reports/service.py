"""The reports' one entry for views, tasks, the CLI and other domains.

The figures come from the rollups (`rollups`, `facts`, `cells`); this module turns the
application's settings into report parameters and hands out the reports and their CSV.
"""

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from citizencenter.reports import cells, rollups, telephony
from citizencenter.reports.export import service_measurement_csv, telephony_csv
from citizencenter.reports.rollups import RefreshResult
from citizencenter.reports.service_measurement import (
    CHANNELS,
    ReportSettings,
    channel_figures,
    service_measurement,
)
from citizencenter.reports.settings import definitions, report_settings
from citizencenter.sla.calendars.calendar import office_hours_calendar

__all__ = ["CHANNELS", "ReportSettings", "channel_figures", "channel_totals", "definitions",
           "refresh_rollups", "report_settings", "service_measurement",
           "service_measurement_csv", "telephony_csv", "telephony_report"]


def telephony_report(session: Session, start: datetime, end: datetime, config, *,
                     queue: str | None = None, interval: str | None = None,
                     formula: str | None = None) -> dict:
    """Call figures for [start, end) with the configured thresholds and formula."""
    params = telephony.TelephonyParams(
        short_abandon_s=config["PHONE_SHORT_ABANDON_S"],
        thresholds_s=config["PHONE_SERVICE_LEVEL_THRESHOLDS_S"],
        direct_answer_s=config["PHONE_DIRECT_ANSWER_S"],
        formula=formula or config["PHONE_SERVICE_LEVEL_FORMULA"])
    return telephony.telephony_report(session, start, end, queue=queue, interval=interval,
                                      params=params)


def refresh_rollups(session: Session, config, *, rebuild: bool = False) -> RefreshResult:
    """Bring the report rollups up to date with the configured definitions."""
    return rollups.refresh_rollups(session, definitions(config), office_hours_calendar(),
                                   timedelta(seconds=config["ROLLUP_OVERLAP_S"]), rebuild)


def channel_totals(session: Session, start: datetime, end: datetime) -> dict[str, dict]:
    """The rollup totals of [start, end) per channel, every channel present."""
    per_channel = {c: cells.empty() for c in CHANNELS}
    for (_, channel, _), totals in cells.sums(session, start, end, {}).items():
        if channel in per_channel:
            cells.add(per_channel[channel], totals)
    return per_channel
