"""Opening hours of one day, as local wall-clock intervals.

Kept apart from the calendar so hours can be parsed and checked where they are
configured, without pulling in the date arithmetic.
"""

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Self

_ONE_DAY = timedelta(days=1)


def _parse_clock(text: str) -> time:
    """Read ``HH:MM`` or ``HH:MM:SS``; ``24:00`` means the end of the day (00:00)."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts):
        raise ValueError(f"not a clock time: {text!r}")
    hour, minute, second = (int(part) for part in (*parts, "0")[:3])
    if hour == 24 and minute == second == 0:
        return time(0)
    return time(hour, minute, second)


@dataclass(frozen=True, order=True)
class OpeningInterval:
    """One stretch of opening hours in local wall-clock time.

    An ``end`` of 00:00 means midnight at the end of the day, so ``00:00–00:00`` is the
    whole day.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("opening hours are wall-clock times without a time zone")
        if self.end_offset <= self.start_offset:
            raise ValueError(f"opening interval ends before it starts: {self}")

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else self.end.isoformat("minutes")
        return f"{self.start.isoformat('minutes')}-{end}"

    @property
    def start_offset(self) -> timedelta:
        """Time after local midnight at which the interval opens."""
        return _offset(self.start)

    @property
    def end_offset(self) -> timedelta:
        """Time after local midnight at which the interval closes (24 h for midnight)."""
        return _offset(self.end) or _ONE_DAY

    @classmethod
    def of(cls, spec: "HoursSpec") -> Self:
        """Build an interval from ``"08:00-12:00"``, a pair of times or strings, or itself."""
        if isinstance(spec, cls):
            return spec
        if isinstance(spec, str):
            start, separator, end = spec.partition("-")
            if not separator:
                raise ValueError(f"opening interval must look like 08:00-12:00: {spec!r}")
            spec = (start, end)
        if not isinstance(spec, tuple) or len(spec) != 2:
            raise ValueError(f"not an opening interval: {spec!r}")
        start, end = (_parse_clock(part) if isinstance(part, str) else part for part in spec)
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"not an opening interval: {spec!r}")
        return cls(start, end)


HoursSpec = OpeningInterval | str | tuple[time | str, time | str]


def _offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second,
        microseconds=value.microsecond)


def opening_hours(*specs: HoursSpec) -> tuple[OpeningInterval, ...]:
    """Build one day's opening hours, sorted, refusing overlapping intervals."""
    intervals = tuple(sorted(OpeningInterval.of(spec) for spec in specs))
    check_day_hours(intervals)
    return intervals


def check_day_hours(intervals: tuple[OpeningInterval, ...]) -> None:
    """Refuse a day's hours that are not sorted, non-overlapping intervals."""
    if not all(isinstance(interval, OpeningInterval) for interval in intervals):
        raise ValueError("opening hours must be OpeningInterval values")
    if list(intervals) != sorted(intervals):
        raise ValueError("opening intervals must be sorted")
    for earlier, later in zip(intervals, intervals[1:], strict=False):
        if later.start_offset < earlier.end_offset:
            raise ValueError(f"opening intervals overlap: {earlier} and {later}")
