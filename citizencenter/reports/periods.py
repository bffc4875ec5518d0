"""The report periods a supervisor picks: a day, week, month, quarter or year around a
date, or a custom range of dates; each as Stockholm midnights [start, end) and the
interval its time series is drawn in."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from citizencenter.errors import InvalidInput
from citizencenter.reports.telephony import local_bounds

KINDS = ("day", "week", "month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 400


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # the first local day
    last: date  # the last local day (inclusive)
    start: datetime  # Stockholm midnight starting `first`
    end: datetime  # Stockholm midnight after `last`
    interval: str  # the time series' step: hour, day or week


def _interval(days: int) -> str:
    return "hour" if days == 1 else "day" if days <= 62 else "week"


def report_period(kind: str, anchor: date, first: date | None = None,
                  last: date | None = None) -> Period:
    """The period of `kind` holding `anchor`; custom takes [first, last] inclusive."""
    if kind == "day":
        first = last = anchor
    elif kind == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
    elif kind in ("month", "quarter"):
        month = anchor.month if kind == "month" else 3 * ((anchor.month - 1) // 3) + 1
        first = anchor.replace(month=month, day=1)
        after = month + (1 if kind == "month" else 3)
        following = date(first.year + (after > 12), (after - 1) % 12 + 1, 1)
        last = following - timedelta(days=1)
    elif kind == "year":
        first, last = date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    elif kind == "custom":
        if first is None or last is None:
            raise InvalidInput("from" if first is None else "to", "Give both dates.")
        if last < first:
            raise InvalidInput("to", "to must not be before from.")
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise InvalidInput("to", f"At most {MAX_CUSTOM_DAYS} days.")
    else:
        raise InvalidInput("period", f"One of {', '.join(KINDS)}.")
    start, end = local_bounds(first, last + timedelta(days=1))
    return Period(kind, first, last, start, end, _interval((last - first).days + 1))
