"""Telephony figures computed in SQL from the calls table, per queue and interval.

Definitions (DESIGN.md): abandons of at most S seconds are left out of offered and
abandoned; exits on timeout, empty queue or key are offered but neither answered
nor abandoned. Service level at T uses the configured formula, named in the answer.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.config import local_zone

FORMULAS = {
    "offered": "answered within T / offered (abandons within S excluded)",
    "answered": "answered within T / answered",
    "answered_and_abandoned": "answered within T / (answered + abandoned after S); "
                              "exits excluded",
}


@dataclass(frozen=True)
class TelephonyParams:
    short_abandon_s: float = 5
    thresholds_s: tuple[int, ...] = (60, 120)
    direct_answer_s: int = 120
    formula: str = "offered"


def _flag(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _aggregates(p: TelephonyParams) -> list:
    answered = Call.outcome == CallOutcome.ANSWERED
    short = and_(Call.outcome == CallOutcome.ABANDONED,
                 func.coalesce(Call.wait_s, 0) <= p.short_abandon_s)
    offered = and_(Call.entered_at.is_not(None), ~short)
    abandoned = and_(Call.outcome == CallOutcome.ABANDONED, ~short)
    handle = func.coalesce(Call.talk_s, 0) + func.coalesce(Call.hold_s, 0) \
        + func.coalesce(Call.acw_s, 0)
    columns = [
        _flag(offered).label("offered"),
        _flag(answered).label("answered"),
        _flag(abandoned).label("abandoned"),
        _flag(Call.outcome == CallOutcome.EXITED).label("exited"),
        func.sum(case((answered, Call.wait_s))).label("wait_answered"),
        func.max(case((offered, Call.wait_s))).label("longest_wait"),
        func.sum(case((and_(answered, Call.talk_s.is_not(None)), handle))).label("handle"),
        _flag(and_(answered, Call.talk_s.is_not(None))).label("handled"),
        _flag(and_(answered, Call.transferred)).label("transferred"),
        _flag(and_(answered, Call.wait_s <= p.direct_answer_s, ~Call.transferred,
                   Case.resolved_at_first_contact.is_(True))).label("direct"),
    ]
    for t in sorted({*p.thresholds_s}):
        columns.append(_flag(and_(answered, Call.wait_s <= t)).label(f"within_{t}"))
    return columns


def _ratio(numerator, denominator) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def _figures(row, p: TelephonyParams) -> dict:
    denominators = {"offered": row.offered, "answered": row.answered,
                    "answered_and_abandoned": row.answered + row.abandoned}
    denominator = denominators[p.formula]
    return {
        "offered": row.offered,
        "answered": row.answered,
        "abandoned": row.abandoned,
        "exited": row.exited,
        "service_level": {str(t): _ratio(getattr(row, f"within_{t}"), denominator)
                          for t in sorted(p.thresholds_s)},
        "asa_seconds": _ratio(row.wait_answered or 0, row.answered),
        "longest_wait_seconds": row.longest_wait,
        "abandon_rate": _ratio(row.abandoned, row.offered),
        "aht_seconds": _ratio(row.handle or 0, row.handled),
        "transfer_rate": _ratio(row.transferred, row.answered),
        "direct_answer_rate": _ratio(row.direct, row.offered),
    }


def local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local midnights around the local dates [start, end)."""
    zone = local_zone()
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def telephony_report(session: Session, start: datetime, end: datetime, *,
                     queue: str | None = None, interval: str | None = None,
                     params: TelephonyParams = TelephonyParams()) -> dict:
    """Figures for calls that entered a queue in [start, end)."""
    base = (select(*_aggregates(params)).select_from(Call)
            .outerjoin(Case, Case.id == Call.case_id)
            .where(Call.entered_at >= start, Call.entered_at < end))
    # The day index narrows the scan; the exact bounds then apply.
    zone = local_zone()
    local_start, local_end = start.astimezone(zone).date(), end.astimezone(zone).date()
    base = base.where(Call.local_date >= local_start, Call.local_date <= local_end)
    if queue:
        base = base.where(Call.queue == queue)
    totals = session.execute(base).one()
    result = {
        "from": start.isoformat(), "to": end.isoformat(), "queue": queue,
        "interval": interval,
        "definitions": {
            "short_abandon_seconds": params.short_abandon_s,
            "service_level_thresholds_seconds": sorted(params.thresholds_s),
            "direct_answer_seconds": params.direct_answer_s,
            "service_level_formula": {"name": params.formula,
                                      "formula": FORMULAS[params.formula]},
            "direct_answer_rate": "answered within the threshold, resolved at first "
                                  "contact and not transferred / offered",
        },
        "totals": _figures(totals, params),
    }
    if interval:
        keys = [Call.local_date] + ([Call.local_hour] if interval == "hour" else [])
        rows = session.execute(base.add_columns(*keys).group_by(*keys).order_by(*keys)).all()
        result["intervals"] = [
            {"start": datetime.combine(row.local_date,
                                       time(row.local_hour if interval == "hour" else 0),
                                       zone).isoformat(),
             **_figures(row, params)}
            for row in rows]
    return result

