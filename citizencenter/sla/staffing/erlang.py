"""Staffing maths for the phone queue: Erlang C and a simple call forecast.

Erlang C assumes calls arrive at random, callers wait as long as it takes and handling
times are exponential. Real callers hang up, so the figures are a planning aid, a
little pessimistic about waiting, not a promise.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

# Enough for any centre; stops a search that could never reach its target.
_MAX_AGENTS = 10_000


def _require_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int):
        raise ValueError("agents must be an integer")
    if agents <= 0:
        raise ValueError("agents must be positive")


def _require_non_negative(value: float, name: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0")


def _require_positive(value: float, name: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0")


def traffic_intensity(calls_per_interval: float, aht_s: float, interval_s: float) -> float:
    """Return the offered load in Erlangs: handling seconds asked for per second."""
    _require_non_negative(calls_per_interval, "calls_per_interval")
    _require_positive(aht_s, "aht_s")
    _require_positive(interval_s, "interval_s")
    return calls_per_interval * aht_s / interval_s


def erlang_b(agents: int, traffic_erlangs: float) -> float:
    """Return the Erlang B blocking probability, the stable base of Erlang C."""
    _require_agents(agents)
    _require_non_negative(traffic_erlangs, "traffic_erlangs")
    # The recursion B(n) = A·B(n−1) / (n + A·B(n−1)) never forms A^N or N!, which would
    # overflow long before a large centre's numbers do.
    blocking = 1.0
    for servers in range(1, agents + 1):
        blocking = traffic_erlangs * blocking / (servers + traffic_erlangs * blocking)
    return blocking


def erlang_c(agents: int, traffic_erlangs: float) -> float:
    """Return the probability that a call has to wait (1.0 when the queue never drains)."""
    _require_agents(agents)
    _require_non_negative(traffic_erlangs, "traffic_erlangs")
    if traffic_erlangs >= agents:
        return 1.0
    blocking = erlang_b(agents, traffic_erlangs)
    return agents * blocking / (agents - traffic_erlangs * (1 - blocking))


def service_level(agents: int, calls_per_interval: float, aht_s: float, interval_s: float,
                  target_answer_s: float) -> float:
    """Return the expected share of calls answered within ``target_answer_s``.

    SL = 1 − C · exp(−(N − A) · T / AHT); 0.0 when the agents cannot keep up.
    """
    _require_agents(agents)
    _require_non_negative(target_answer_s, "target_answer_s")
    traffic = traffic_intensity(calls_per_interval, aht_s, interval_s)
    if traffic >= agents:
        return 0.0
    waiting = erlang_c(agents, traffic)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_answer_s / aht_s)


def average_speed_of_answer(agents: int, calls_per_interval: float, aht_s: float,
                            interval_s: float) -> float:
    """Return the expected mean wait in seconds, ASA = C · AHT / (N − A).

    Infinite when the agents cannot keep up.
    """
    _require_agents(agents)
    traffic = traffic_intensity(calls_per_interval, aht_s, interval_s)
    if traffic >= agents:
        return math.inf
    return erlang_c(agents, traffic) * aht_s / (agents - traffic)


@dataclass(frozen=True)
class StaffingResult:
    """What a number of agents achieves for one interval's forecast."""

    agents: int
    service_level: float
    asa_s: float
    occupancy: float
    traffic_erlangs: float


def agents_needed(calls_per_interval: float, aht_s: float, interval_s: float,
                  target_sl: float, target_answer_s: float,
                  max_occupancy: float | None = None) -> StaffingResult:
    """Return the fewest agents that reach ``target_sl`` within ``target_answer_s``.

    ``max_occupancy`` (0–1) adds agents until their share of time on calls is at most
    that, since a team kept near 100 % busy burns out even when the queue looks fine.
    """
    if not 0 < target_sl < 1:
        raise ValueError("target_sl must be between 0 and 1 (exclusive)")
    _require_non_negative(target_answer_s, "target_answer_s")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError("max_occupancy must be in (0, 1]")
    traffic = traffic_intensity(calls_per_interval, aht_s, interval_s)
    agents = max(1, math.floor(traffic) + 1)
    if max_occupancy is not None:
        agents = max(agents, math.ceil(traffic / max_occupancy))
    while agents <= _MAX_AGENTS:
        level = service_level(agents, calls_per_interval, aht_s, interval_s, target_answer_s)
        occupancy = traffic / agents
        fits_occupancy = max_occupancy is None or occupancy <= max_occupancy
        if level >= target_sl and fits_occupancy:
            return StaffingResult(
                agents=agents,
                service_level=level,
                asa_s=average_speed_of_answer(agents, calls_per_interval, aht_s, interval_s),
                occupancy=occupancy,
                traffic_erlangs=traffic,
            )
        agents += 1
    raise ValueError("the target cannot be reached with a realistic number of agents")


ForecastSlot = tuple[int, time]


def forecast(history: Iterable[tuple[datetime, float]], weeks: int = 4
             ) -> dict[ForecastSlot, float]:
    """Return the mean calls per (weekday, interval start) over the last ``weeks`` weeks.

    ``history`` holds (local start of interval, calls offered) rows; only the wall-clock
    fields are used, naive or aware. The window ends on the day of the latest row and
    reaches back ``weeks`` × 7 days. Each slot is the plain mean of the rows given for
    it, so an interval with no calls must be passed as 0 to pull the mean down; rows
    for the same slot and day are added together first.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks <= 0:
        raise ValueError("weeks must be a positive integer")
    rows = list(history)
    if not rows:
        return {}
    for started_at, calls in rows:
        if not isinstance(started_at, datetime):
            raise ValueError("interval starts must be datetimes")
        _require_non_negative(calls, "calls")
    first_day = max(started_at.date() for started_at, _ in rows) - timedelta(days=7 * weeks - 1)
    per_day: dict[tuple[ForecastSlot, date], float] = defaultdict(float)
    for started_at, calls in rows:
        if started_at.date() >= first_day:
            per_day[(started_at.weekday(), started_at.time()), started_at.date()] += calls
    totals: dict[ForecastSlot, list[float]] = defaultdict(list)
    for (slot, _), calls in per_day.items():
        totals[slot].append(calls)
    return {slot: sum(values) / len(values) for slot, values in sorted(totals.items())}
