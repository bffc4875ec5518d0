"""Read summed rollup cells for a period: whole Stockholm days from day cells, the
ragged edges from 15-minute cells. Never touches calls, cases or messages."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.config import local_zone
from citizencenter.reports.models import MAXIMA, MEASURES, RollupCell, RollupDay

Totals = dict[str, float | int | None]


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), local_zone())


def whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The local dates [first, last) lying wholly inside [start, end), if any."""
    local = start.astimezone(local_zone())
    first = local.date() if local_midnight(local.date()) == start \
        else local.date() + timedelta(days=1)
    last = end.astimezone(local_zone()).date()
    return (first, last) if first < last else None


def add(into: Totals, row) -> None:
    for name in MEASURES:
        value = row[name] if isinstance(row, dict) else getattr(row, name)
        if name in MAXIMA:
            if value is not None and (into.get(name) is None or value > into[name]):
                into[name] = value
        else:
            into[name] = into.get(name, 0) + (value or 0)


def empty() -> Totals:
    totals: Totals = {}
    for name in MEASURES:
        totals[name] = None if name in MAXIMA else 0
    return totals


def _aggregates(model) -> list:
    return [(func.max if m in MAXIMA else func.sum)(getattr(model, m)).label(m)
            for m in MEASURES]


def _filtered(query, model, filters: dict):
    for name in ("channel", "queue", "department"):
        if filters.get(name) is not None:
            query = query.where(getattr(model, name) == filters[name])
    return query


def sums(session: Session, start: datetime, end: datetime, filters: dict,
         period_of: Callable[[datetime | date], object] | None = None,
         fine: bool = False, group: str | None = None) -> dict[tuple, Totals]:
    """Totals keyed by (period, channel, department); `period_of` maps a bucket start or
    a local date to the period (None: the whole range). `fine` reads 15-minute cells only.
    `group` (queue, department or guide_id) adds that column's value to every key; day
    cells hold no guide, so grouping by guide reads 15-minute cells only."""
    ranges: list[tuple[datetime, datetime]] = []
    days = None if fine or group == "guide_id" else whole_days(start, end)
    if days is None:
        ranges.append((start, end))
    else:
        ranges += [(start, local_midnight(days[0])), (local_midnight(days[1]), end)]
    out: dict[tuple, Totals] = {}

    def collect(rows, moment_name):
        for row in rows:
            key = (period_of(getattr(row, moment_name)) if period_of else None,
                   row.channel, row.department, *([row.grouped] if group else []))
            add(out.setdefault(key, empty()), row)

    def grouped(query, model):
        if group is None:
            return query
        column = getattr(model, group)
        return query.add_columns(column.label("grouped")).group_by(column)

    cell_key = RollupCell.bucket_start if period_of and fine else RollupCell.local_date
    for low, high in ranges:
        if low >= high:
            continue
        query = (select(cell_key.label("moment"), RollupCell.channel, RollupCell.department,
                        *_aggregates(RollupCell))
                 .where(RollupCell.bucket_start >= low, RollupCell.bucket_start < high)
                 .group_by(cell_key, RollupCell.channel, RollupCell.department))
        if not period_of:
            query = (select(RollupCell.channel, RollupCell.department,
                            *_aggregates(RollupCell))
                     .where(RollupCell.bucket_start >= low, RollupCell.bucket_start < high)
                     .group_by(RollupCell.channel, RollupCell.department))
        collect(session.execute(_filtered(grouped(query, RollupCell), RollupCell, filters)),
                "moment")
    if days is not None:
        keys = [RollupDay.local_date] if period_of else []
        query = (select(*[k.label("moment") for k in keys], RollupDay.channel,
                        RollupDay.department, *_aggregates(RollupDay))
                 .where(RollupDay.local_date >= days[0], RollupDay.local_date < days[1])
                 .group_by(*keys, RollupDay.channel, RollupDay.department))
        collect(session.execute(_filtered(grouped(query, RollupDay), RollupDay, filters)),
                "moment")
    return out
