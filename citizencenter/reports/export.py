"""The reports as CSV: the service measurement one row per figure, telephony one row per
interval."""

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


def _write(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_text(v) for v in row] for row in rows])
    return out.getvalue()


def service_measurement_csv(report: dict) -> str:
    """Render a service_measurement() result; department figures use channel department:slug.

    With group_by a first column `group` names each group (`guide:12`, `queue:bygglov`,
    `department:none`); the rows of the whole report have it empty."""
    rows = list(_rows(report, ""))
    for slug, figures in report["departments"].items():
        rows += [("", f"department:{slug}", name, f["value"], f["unit"], f["target"], f["met"],
                  f["n"]) for name, f in figures.items()]
    for interval in report.get("intervals", []):
        rows += list(_rows(interval, interval["start"]))
    if "groups" not in report:
        return _write(COLUMNS, rows)
    rows = [("", *row) for row in rows]
    for group in report["groups"]:
        name = f"{report['group_by']}:{'none' if group['group'] is None else group['group']}"
        rows += [(name, *row) for row in _rows(group, "")]
    return _write(("group", *COLUMNS), rows)


def telephony_csv(report: dict) -> str:
    """Render a telephony_report() result: the totals (interval_start empty), then each
    interval; service levels as service_level_<seconds> columns."""
    levels = sorted(report["totals"]["service_level"], key=int)
    names = [n for n in report["totals"] if n != "service_level"]
    header = ("interval_start", *names, *(f"service_level_{t}" for t in levels))

    def row(start: str, figures: dict) -> tuple:
        return (start, *(figures[n] for n in names),
                *(figures["service_level"][t] for t in levels))
    return _write(header, [row("", report["totals"]),
                           *(row(i["start"], i) for i in report.get("intervals", []))])
