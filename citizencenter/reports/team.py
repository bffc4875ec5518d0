"""Figures per guide and per queue for a period, from the service measurement's groups:
one row each, sortable by any column. A guide's own row is the same row."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import User
from citizencenter.errors import InvalidInput
from citizencenter.organisation.models import Queue
from citizencenter.reports.export import _write as write_csv
from citizencenter.reports.service_measurement import ReportSettings, service_measurement

# column -> (block, figure) of the service measurement; the row's value is that figure's.
COLUMNS = {
    "cases": ("overall", "cases_received"),
    "calls": ("phone", "calls_answered"),
    "first_contact_resolution": ("overall", "first_contact_resolution"),
    "handling_seconds": ("phone", "aht_seconds"),
    "direct_answer_rate": ("phone", "direct_answer_rate"),
    "answered_within_24h": ("email", "answered_within_24h"),
    "courtesy_skr_index": ("overall", "courtesy_skr_index"),
}
SORTABLE = ("name", *COLUMNS)


def _calls_answered(block: dict) -> dict:
    """A group's answered calls: the count behind its mean wait of answered calls."""
    answered = block["phone"]["asa_seconds"]["n"]
    return {"value": answered, "n": answered, "target": None, "met": None, "unit": "calls"}


def _row(group: dict, name: str, key) -> dict:
    figures = {}
    for column, (block, figure) in COLUMNS.items():
        if figure == "calls_answered":
            figures[column] = _calls_answered(group)
        else:
            figures[column] = group[block].get(figure)
    return {"key": key, "name": name, "figures": figures}


def _names(session: Session, group_by: str, keys: list) -> dict:
    if group_by == "guide":
        ids = [int(k) for k in keys if k]
        return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    slugs = [k for k in keys if k]
    return dict(session.execute(select(Queue.slug, Queue.name).where(Queue.slug.in_(slugs)))
                .all())


def _sort_key(column: str):
    def key(row):
        if column == "name":
            return (0, row["name"].casefold())
        value = row["figures"][column]["value"]
        return (1, 0) if value is None else (0, value)
    return key


def team_figures(session: Session, start: datetime, end: datetime, settings: ReportSettings,
                 group_by: str, *, sort: str = "name", descending: bool = False,
                 only_guide: int | None = None) -> dict:
    """One row per guide (`group_by="guide"`) or queue for [start, end), sorted by `sort`;
    `only_guide` keeps that guide's row alone (a guide's own figures)."""
    if group_by not in ("guide", "queue"):
        raise InvalidInput("group_by", "guide or queue.")
    if sort not in SORTABLE:
        raise InvalidInput("sort", f"One of {', '.join(SORTABLE)}.")
    report = service_measurement(session, start, end, settings, group_by=group_by)
    groups = [g for g in report["groups"] if g["group"] is not None]
    if only_guide is not None:
        groups = [g for g in groups if int(g["group"]) == only_guide]
    names = _names(session, group_by, [g["group"] for g in groups])
    rows = [_row(g, names.get(int(g["group"]) if group_by == "guide" else g["group"],
                              str(g["group"])), g["group"]) for g in groups]
    present = [r for r in rows if _sort_key(sort)(r)[0] == 0]
    missing = [r for r in rows if _sort_key(sort)(r)[0] == 1]
    present.sort(key=_sort_key(sort), reverse=descending)
    missing.sort(key=_sort_key("name"))
    return {"from": report["from"], "to": report["to"], "group_by": group_by,
            "sort": sort, "descending": descending, "rows": present + missing}


def team_csv(table: dict) -> str:
    """The rows as CSV: key, name, then each column's value and n."""
    header = [table["group_by"], "name"]
    for column in COLUMNS:
        header += [column, f"{column}_n"]
    rows = []
    for row in table["rows"]:
        line = [row["key"], row["name"]]
        for column in COLUMNS:
            figure = row["figures"][column]
            line += [figure["value"], figure["n"]]
        rows.append(line)
    return write_csv(header, rows)
