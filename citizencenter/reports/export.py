"""The service-measurement report as CSV: one row per figure."""

import csv
import io

from citizencenter.reports.service_measurement import CHANNELS

COLUMNS = ("interval_start", "channel", "figure", "value", "unit", "target", "met", "n")


def _rows(block: dict, start: str):
    for channel in (*CHANNELS, "overall"):
        for figure, f in block.get(channel, {}).items():
            yield (start, channel, figure, f["value"], f["unit"], f["target"], f["met"], f["n"])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def service_measurement_csv(report: dict) -> str:
    """Render a service_measurement() result; department figures use channel department:slug."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    rows = list(_rows(report, ""))
    for slug, figures in report["departments"].items():
        rows += [("", f"department:{slug}", name, f["value"], f["unit"], f["target"], f["met"],
                  f["n"]) for name, f in figures.items()]
    for interval in report.get("intervals", []):
        rows += list(_rows(interval, interval["start"]))
    writer.writerows([[_text(v) for v in row] for row in rows])
    return out.getvalue()
