"""Staffing help for the phone queue: Erlang C for one interval, and a call forecast."""

import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from citizencenter.errors import InvalidInput
from citizencenter.sla.enums import WEEKDAYS
from citizencenter.sla.staffing import erlang

# Offered calls as (local date, local hour, count) rows for the days [first, last], of one
# queue or all. The phone channel sits above sla, so it hands its query over at app start.
CallHistory = Callable[[Session, date, date, str | None], list[tuple[date, int, int]]]
_call_history: list[CallHistory] = []


def set_call_history(source: CallHistory) -> None:
    """Forecast from `source` (the phone channel's calls)."""
    _call_history[:] = [source]


def _offered_per_hour(session: Session, first: date, last: date, queue: str | None) -> list:
    if not _call_history:
        raise RuntimeError("No call history to forecast from: build the app "
                           "(citizencenter.create_app) before using the services.")
    return list(_call_history[0](session, first, last, queue))


def erlang_c_plan(*, calls: float, interval_s: int, aht_s: float, target_service_level: float,
                  answer_within_s: float, max_occupancy: float | None = None,
                  agents: int | None = None) -> dict:
    """Guides needed for a service level (or what `agents` guides achieve), with ASA."""
    traffic = erlang.traffic_intensity(calls, aht_s, interval_s)
    if agents is None:
        try:
            result = erlang.agents_needed(calls, aht_s, interval_s, target_service_level,
                                          answer_within_s, max_occupancy)
        except ValueError as exc:
            raise InvalidInput("calls", str(exc)) from None
        agents = result.agents
    level = erlang.service_level(agents, calls, aht_s, interval_s, answer_within_s)
    asa = erlang.average_speed_of_answer(agents, calls, aht_s, interval_s)
    return {
        "agents": agents,
        "traffic_erlangs": traffic,
        "wait_probability": erlang.erlang_c(agents, traffic),
        "service_level": level,
        "asa_s": asa if math.isfinite(asa) else None,
        "occupancy": min(traffic / agents, 1.0),
        "meets_target": level >= target_service_level
        and (max_occupancy is None or traffic / agents <= max_occupancy),
    }


def _agents_or_none(calls: float, aht_s: float, target: float, within_s: float) -> int | None:
    try:
        return erlang.agents_needed(calls, aht_s, 3600, target, within_s).agents
    except ValueError:  # beyond any realistic number of guides
        return None


def forecast_calls(session: Session, *, weeks: int, timezone: str, queue: str | None = None,
                   today: date | None = None, aht_s: float | None = None,
                   target_service_level: float = 0.8, answer_within_s: float = 120) -> dict:
    """Mean offered calls per weekday and hour over the last `weeks` whole weeks.

    Counted in SQL (GROUP BY day and hour); days without calls count as zero.
    """
    today = today or datetime.now(ZoneInfo(timezone)).date()
    first, last = today - timedelta(days=7 * weeks), today - timedelta(days=1)
    counted = _offered_per_hour(session, first, last, queue)
    # Every hour of the window starts at zero, so quiet days pull the mean down.
    days = [first + timedelta(days=n) for n in range(7 * weeks)]
    history = [(datetime.combine(day, time(hour)), 0) for day in days for hour in range(24)]
    history += [(datetime.combine(day, time(hour)), calls) for day, hour, calls in counted]
    intervals = []
    for (weekday, start), calls in erlang.forecast(history, weeks=weeks).items():
        if not calls:
            continue
        row = {"weekday": WEEKDAYS[weekday], "interval_start": start.isoformat("minutes"),
               "calls": round(calls, 2)}
        if aht_s is not None:
            row["agents"] = _agents_or_none(calls, aht_s, target_service_level, answer_within_s)
        intervals.append(row)
    return {"from_": first, "to": last, "weeks": weeks, "queue": queue, "interval_s": 3600,
            "total_calls": sum(calls for _, _, calls in counted), "intervals": intervals}
