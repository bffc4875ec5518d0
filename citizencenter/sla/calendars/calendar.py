"""Business calendars: when the centre is open, and deadlines counted in open time.

Opening hours are local wall-clock times in the calendar's time zone, so "08–17" stays
nine hours of open time on the days the clocks change. All arithmetic is done on UTC
instants, because subtracting two datetimes that share a ``ZoneInfo`` gives the
wall-clock difference rather than the time that really passed.

Every datetime passed in must be timezone-aware (a naive one is a ``ValueError``).
Every datetime returned is in the time zone of the ``start``/``at`` argument, so UTC in
gives UTC out, as the models store it.

Intervals are half-open: an office open 08:00–17:00 is open at 08:00 and closed at
17:00. A deadline that falls exactly on a closing time is that closing time, not the
next opening.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from citizencenter.sla.calendars.opening_hours import (
    HoursSpec,
    OpeningInterval,
    check_day_hours,
    opening_hours,
)
from citizencenter.sla.calendars.swedish_holidays import SHORTENED_EVES, eve_on, is_closed_day

DEFAULT_TIMEZONE = "Europe/Stockholm"

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# Longest run of closed days searched through before deciding the calendar never
# opens again; a year and a bit covers any real closure.
_MAX_CLOSED_RUN = 400
# Per-calendar memo of computed days; cleared when full so it cannot grow unbounded.
_SPAN_CACHE_SIZE = 20_000

Span = tuple[datetime, datetime]


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _require_duration(value: timedelta, name: str) -> None:
    if not isinstance(value, timedelta):
        raise ValueError(f"{name} must be a timedelta")
    if value < _ZERO:
        raise ValueError(f"{name} must not be negative")


def _merge_pauses(pauses: Iterable[tuple[datetime, datetime]]) -> list[Span]:
    """Return the pauses as sorted, non-overlapping UTC spans."""
    spans: list[Span] = []
    for pause in pauses:
        if not isinstance(pause, tuple) or len(pause) != 2:
            raise ValueError(f"a pause is a (start, end) pair: {pause!r}")
        paused_at, resumed_at = pause
        _require_aware(paused_at, "pause start")
        _require_aware(resumed_at, "pause end")
        if resumed_at < paused_at:
            raise ValueError("a pause must not end before it starts")
        spans.append((paused_at.astimezone(UTC), resumed_at.astimezone(UTC)))
    spans.sort()
    merged: list[Span] = []
    for paused_at, resumed_at in spans:
        if merged and paused_at <= merged[-1][1]:
            if resumed_at > merged[-1][1]:
                merged[-1] = (merged[-1][0], resumed_at)
        else:
            merged.append((paused_at, resumed_at))
    return merged


def _without_pauses(spans: Iterable[Span], pauses: list[Span]) -> Iterator[Span]:
    """Yield the parts of ``spans`` outside ``pauses``; both are sorted, pauses merged."""
    first = 0
    for start, end in spans:
        # Spans only move forward, so pauses that ended before this one never matter again.
        while first < len(pauses) and pauses[first][1] <= start:
            first += 1
        cursor = start
        index = first
        while index < len(pauses) and pauses[index][0] < end and cursor < end:
            paused_at, resumed_at = pauses[index]
            if paused_at > cursor:
                yield cursor, paused_at
            cursor = max(cursor, resumed_at)
            index += 1
        if cursor < end:
            yield cursor, end


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours of a service, with the closures that apply to them.

    ``weekly_hours`` holds seven days' hours, Monday first. ``version`` is carried so
    that a result can later be recomputed with the calendar that applied at the time.
    A date in ``shortened_days`` replaces that day's hours, even on a holiday (to open
    on one deliberately); a date in ``closed_dates`` is closed. An eve in
    ``shortened_eves`` ("valborgsmassoafton") replaces the hours of that eve every year
    when the calendar would be open on it.
    """

    weekly_hours: tuple[tuple[OpeningInterval, ...], ...]
    timezone: str = DEFAULT_TIMEZONE
    swedish_holidays: bool = True
    closed_dates: frozenset[date] = frozenset()
    shortened_days: tuple[tuple[date, tuple[OpeningInterval, ...]], ...] = ()
    shortened_eves: tuple[tuple[str, tuple[OpeningInterval, ...]], ...] = ()
    version: str = "1"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _shortened: dict[date, tuple[OpeningInterval, ...]] = field(
        init=False, repr=False, compare=False)
    _spans_by_day: dict[date, tuple[Span, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.weekly_hours) != 7:
            raise ValueError("weekly_hours needs one entry per weekday, Monday first")
        for day_hours in self.weekly_hours:
            check_day_hours(day_hours)
        if not any(self.weekly_hours):
            raise ValueError("a calendar must be open at some time of the week")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone: {self.timezone!r}") from error
        shortened = dict(self.shortened_days)
        if len(shortened) != len(self.shortened_days):
            raise ValueError("a date may be shortened only once")
        for day_hours in shortened.values():
            check_day_hours(day_hours)
        if not self.closed_dates.isdisjoint(shortened):
            raise ValueError("a date cannot be both closed and shortened")
        for eve, day_hours in self.shortened_eves:
            if eve not in SHORTENED_EVES:
                raise ValueError(f"{eve!r} is not an eve that can be shortened: "
                                 f"{', '.join(SHORTENED_EVES)}")
            check_day_hours(day_hours)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_shortened", shortened)

    @classmethod
    def create(
        cls,
        weekly_hours: Mapping[int, Iterable[HoursSpec]],
        *,
        timezone: str = DEFAULT_TIMEZONE,
        swedish_holidays: bool = True,
        closed_dates: Iterable[date] = (),
        shortened_days: Mapping[date | str, Iterable[HoursSpec]] | None = None,
        version: str = "1",
    ) -> Self:
        """Build a calendar from readable hours, e.g. ``{4: ["08:00-15:00"]}``.

        Keys of ``weekly_hours`` are weekdays, Monday 0 to Sunday 6; a weekday left out
        is closed. Keys of ``shortened_days`` are dates or eves ("allhelgonaafton").
        """
        if not set(weekly_hours) <= set(range(7)):
            raise ValueError("weekdays are numbered 0 (Monday) to 6 (Sunday)")
        return cls(
            weekly_hours=tuple(
                opening_hours(*weekly_hours.get(weekday, ())) for weekday in range(7)),
            timezone=timezone,
            swedish_holidays=swedish_holidays,
            closed_dates=frozenset(closed_dates),
            shortened_days=tuple(sorted(
                (day, opening_hours(*specs)) for day, specs in (shortened_days or {}).items()
                if not isinstance(day, str))),
            shortened_eves=tuple(sorted(
                (eve, opening_hours(*specs)) for eve, specs in (shortened_days or {}).items()
                if isinstance(eve, str))),
            version=version,
        )

    @classmethod
    def always_open(cls, timezone: str = DEFAULT_TIMEZONE, version: str = "always-open/1"
                    ) -> Self:
        """Build a 24/7 calendar, for targets counted in calendar time."""
        whole_day = (OpeningInterval(time(0), time(0)),)
        return cls(weekly_hours=(whole_day,) * 7, timezone=timezone,
                   swedish_holidays=False, version=version)

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the opening hours are read in."""
        return self._zone

    def hours_on(self, day: date) -> tuple[OpeningInterval, ...]:
        """Return the opening hours that apply on ``day`` (empty when closed)."""
        if day in self.closed_dates:
            return ()
        shortened = self._shortened.get(day)
        if shortened is not None:
            return shortened
        if self.swedish_holidays and is_closed_day(day):
            return ()
        regular = self.weekly_hours[day.weekday()]
        if regular and self.shortened_eves:
            eve = eve_on(day)
            for name, hours in self.shortened_eves:
                if name == eve:
                    return hours
        return regular

    def is_working_day(self, day: date) -> bool:
        """Tell whether the calendar opens at all on ``day``."""
        return bool(self.hours_on(day))

    def is_open(self, at: datetime) -> bool:
        """Tell whether the calendar is open at the instant ``at``."""
        _require_aware(at, "at")
        instant = at.astimezone(UTC)
        return any(start <= instant < end
                   for start, end in self._spans(instant.astimezone(self._zone).date()))

    def next_opening(self, at: datetime) -> datetime:
        """Return the first open instant at or after ``at`` (``at`` itself when open)."""
        _require_aware(at, "at")
        for start, _ in self._open_spans_from(at.astimezone(UTC)):
            return start.astimezone(at.tzinfo)
        raise ValueError("the calendar does not open again")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Return the open time from ``start`` to ``end`` (zero if ``end`` is not later)."""
        return self.business_time_between_excluding(start, end, ())

    def business_time_between_excluding(
        self, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime]]
    ) -> timedelta:
        """Return the open time from ``start`` to ``end`` outside ``pauses``.

        Pauses are the periods the clock stops, such as waiting on the citizen; they may
        overlap each other and reach outside ``start``–``end``.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        merged = _merge_pauses(pauses)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = _ZERO
        if end <= start:
            return total
        for span_start, span_end in _without_pauses(
                self._open_spans_from(start, until=end), merged):
            if span_start >= end:
                break
            total += min(span_end, end) - span_start
        return total

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """Return when ``duration`` of open time has passed after ``start``.

        A start outside opening hours counts from the next opening; a zero duration
        returns ``start``.
        """
        return self.due_at_with_pauses(start, duration, ())

    def due_at_with_pauses(
        self, start: datetime, target: timedelta, pauses: Iterable[tuple[datetime, datetime]]
    ) -> datetime:
        """Return when ``target`` of open time outside ``pauses`` has passed after ``start``.

        This is the deadline pushed back by the open time spent paused before it.
        """
        _require_aware(start, "start")
        _require_duration(target, "target")
        merged = _merge_pauses(pauses)
        if not target:
            return start
        remaining = target
        for span_start, span_end in _without_pauses(
                self._open_spans_from(start.astimezone(UTC)), merged):
            length = span_end - span_start
            if remaining <= length:
                return (span_start + remaining).astimezone(start.tzinfo)
            remaining -= length
        raise ValueError("the calendar does not open again")

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """Return the same local clock time ``days`` working days after ``start``.

        This is the "answered within N working days" rule of the service measurement.
        A start outside opening hours (evening, weekend, holiday) counts from the next
        opening, so a Saturday e-mail is due on Tuesday at opening time for one working
        day. The result keeps that clock time even on a day with shorter hours.
        """
        _require_aware(start, "start")
        if isinstance(days, bool) or not isinstance(days, int):
            raise ValueError("days must be an integer")
        if days < 0:
            raise ValueError("days must not be negative")
        anchor = self.next_opening(start).astimezone(self._zone)
        day, counted, closed_run = anchor.date(), 0, 0
        while counted < days:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted, closed_run = counted + 1, 0
            else:
                closed_run += 1
                if closed_run > _MAX_CLOSED_RUN:
                    raise ValueError("the calendar does not open again")
        return datetime.combine(day, anchor.time(), self._zone).astimezone(start.tzinfo)

    def _spans(self, day: date) -> tuple[Span, ...]:
        """Return ``day``'s opening hours as UTC spans, memoised per day."""
        cached = self._spans_by_day.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, time())
        spans: list[Span] = []
        for interval in self.hours_on(day):
            # Attaching the zone to the wall-clock time (rather than adding to an aware
            # midnight) is what makes 08–17 nine hours on the days the clocks change.
            start = (midnight + interval.start_offset).replace(tzinfo=self._zone).astimezone(UTC)
            end = (midnight + interval.end_offset).replace(tzinfo=self._zone).astimezone(UTC)
            if spans:
                start = max(start, spans[-1][1])
            if end > start:
                spans.append((start, end))
        if len(self._spans_by_day) >= _SPAN_CACHE_SIZE:
            self._spans_by_day.clear()
        self._spans_by_day[day] = result = tuple(spans)
        return result

    def _open_spans_from(self, start: datetime, until: datetime | None = None
                         ) -> Iterator[Span]:
        """Yield the open UTC spans from ``start`` on, the first one clipped to it.

        Stops after ``until``'s local day, or after a closure longer than any real one.
        """
        day = start.astimezone(self._zone).date()
        last_day = until.astimezone(self._zone).date() if until is not None else None
        closed_run = 0
        while last_day is None or day <= last_day:
            spans = self._spans(day)
            if spans:
                closed_run = 0
            else:
                closed_run += 1
                if last_day is None and closed_run > _MAX_CLOSED_RUN:
                    return
            for span_start, span_end in spans:
                if span_end > start:
                    yield max(span_start, start), span_end
            day += _ONE_DAY


def office_hours_calendar(version: str = "office-hours/1") -> BusinessCalendar:
    """Build the survey's office hours: weekdays 08–17, Swedish holidays and eves closed."""
    return BusinessCalendar.create(
        {weekday: ["08:00-17:00"] for weekday in range(5)}, version=version)


def always_open_calendar(version: str = "always-open/1") -> BusinessCalendar:
    """Build the 24/7 calendar used for targets in calendar hours."""
    return BusinessCalendar.always_open(version=version)
