"""The service-measurement report (servicemätning): every survey figure for a period,
per channel and overall, beside its target. Reads rollup cells only."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import Department
from citizencenter.config import local_zone
from citizencenter.errors import InvalidInput
from citizencenter.reports import cells
from citizencenter.reports.facts import KKIK_MAX_POINTS, KKIK_POINTS, Definitions
from citizencenter.reports.models import RollupState
from citizencenter.reports.targets import Targets
from citizencenter.reports.telephony import FORMULAS

CHANNELS = ("phone", "email", "social", "webform", "walk_in")
WRITTEN = ("email", "social", "webform")
INTERVAL_DAYS = {"15min": 31, "hour": 92, "day": 400, "week": 400, "month": 400, None: 400}
# group_by: the rollup column each grouping reads; a fact without one has 0 or "".
GROUPS = {"guide": "guide_id", "queue": "queue", "department": "department"}


@dataclass(frozen=True)
class ReportSettings:
    definitions: Definitions
    formula: str = "offered"
    targets: Targets = Targets()
    comparable_n: int = 100


def _ratio(numerator, denominator, scale: float = 1.0) -> float | None:
    return round(scale * numerator / denominator, 6) if denominator else None


class _Figures:
    def __init__(self, channel: str, settings: ReportSettings):
        self.channel, self.settings, self.out = channel, settings, {}

    def add(self, name: str, value, unit: str, n: int, **extra) -> None:
        target = self.settings.targets.target(self.channel, name)
        self.out[name] = {"value": value, "unit": unit, "target": target,
                          "comparison": Targets.comparison(name),
                          "met": self.settings.targets.met(name, value, target), "n": n,
                          **extra}


def _phone(f: _Figures, t: dict, s: ReportSettings) -> None:
    d = s.definitions
    denominator = {"offered": t["calls_offered"], "answered": t["calls_answered"],
                   "answered_and_abandoned": t["calls_answered"] + t["calls_abandoned"]
                   }[s.formula]
    for threshold, column in sorted({d.threshold_t2_s: "calls_answered_within_t2",
                                     d.threshold_t1_s: "calls_answered_within_t1"}.items(),
                                    reverse=True):
        f.add(f"service_level_{threshold}", _ratio(t[column], denominator), "ratio",
              denominator, formula=s.formula)
    f.add("direct_answer_rate", _ratio(t["calls_direct"], t["calls_offered"]), "ratio",
          t["calls_offered"])
    f.add("asa_seconds", _ratio(t["calls_wait_answered_s"], t["calls_answered"]), "seconds",
          t["calls_answered"])
    f.add("abandon_rate", _ratio(t["calls_abandoned"], t["calls_offered"]), "ratio",
          t["calls_offered"])
    f.add("aht_seconds", _ratio(t["calls_handle_s"], t["calls_handled"]), "seconds",
          t["calls_handled"])
    f.add("transfer_rate", _ratio(t["calls_transferred"], t["calls_answered"]), "ratio",
          t["calls_answered"])
    f.add("longest_wait_seconds", t["calls_longest_wait_s"], "seconds", t["calls_offered"])
    f.add("calls_offered", t["calls_offered"], "calls", t["calls_offered"])


def _written(f: _Figures, t: dict, s: ReportSettings) -> None:
    n = t["cases"]
    f.add(f"answered_within_{s.definitions.answer_within_hours}h",
          _ratio(t["cases_responded_within_hours"], n), "ratio", n)
    f.add("answered_within_1_working_day", _ratio(t["cases_responded_within_1wd"], n),
          "ratio", n)
    f.add("answered_within_2_working_days", _ratio(t["cases_responded_within_2wd"], n),
          "ratio", n)
    f.add("mean_response_office_hours", _ratio(t["cases_response_office_s"],
                                               t["cases_responded"], 1 / 3600), "hours",
          t["cases_responded"])
    f.add("mean_response_hours", _ratio(t["cases_response_s"], t["cases_responded"], 1 / 3600),
          "hours", t["cases_responded"])


def _cases(f: _Figures, t: dict, s: ReportSettings) -> None:
    n, rated = t["cases"], t["feedback_n"]
    f.add("cases_received", n, "cases", n)
    f.add("first_contact_resolution", _ratio(t["cases_resolved_first_contact"], n), "ratio", n)
    f.add("first_contact_resolution_repeat",
          _ratio(t["cases_not_repeated"], t["cases_with_contact"]), "ratio",
          t["cases_with_contact"])
    f.add("handled_by_guides", _ratio(n - t["cases_forwarded"], n), "ratio", n)
    f.add("forwarded_to_departments", _ratio(t["cases_forwarded"], n), "ratio", n)
    comparable = rated >= s.comparable_n
    f.add("courtesy_skr_index", _ratio(25 * (t["feedback_courtesy_sum"] - rated), rated),
          "index", rated, comparable=comparable)
    f.add("courtesy_kkik_percent", _ratio(t["feedback_kkik_points"], KKIK_MAX_POINTS * rated,
                                          100), "percent", rated, comparable=comparable,
          mapping={str(k): v for k, v in KKIK_POINTS.items()})
    f.add("ease_mean", _ratio(t["feedback_ease_sum"], rated), "score", rated)
    f.add("clarity_mean", _ratio(t["feedback_clarity_sum"], rated), "score", rated)


def channel_figures(channel: str, t: dict, s: ReportSettings) -> dict:
    f = _Figures(channel, s)
    if channel == "phone":
        _phone(f, t, s)
    if channel in WRITTEN:
        _written(f, t, s)
    _cases(f, t, s)
    return f.out


def department_figures(slug: str, t: dict, s: ReportSettings) -> dict:
    f = _Figures("department", s)
    f.add("forwarded", t["cases_forwarded"], "cases", t["cases_forwarded"])
    f.add("resolved", t["cases_forwarded_resolved"], "cases", t["cases_forwarded"])
    f.add("mean_resolution_hours", _ratio(t["cases_forwarded_resolution_s"],
                                          t["cases_forwarded_resolved"], 1 / 3600), "hours",
          t["cases_forwarded_resolved"])
    return f.out


def _block(sums: dict, channels: tuple[str, ...], s: ReportSettings) -> dict:
    """Figures per channel and overall from {(channel, department): totals}."""
    per_channel = {c: cells.empty() for c in channels}
    overall = cells.empty()
    for (channel, _), totals in sums.items():
        if channel in per_channel:
            cells.add(per_channel[channel], totals)
            cells.add(overall, totals)
    out = {c: channel_figures(c, per_channel[c], s) for c in channels}
    out["overall"] = channel_figures("overall", overall, s)
    return out


def _period_of(interval: str):
    zone = local_zone()

    def key(moment):
        if isinstance(moment, datetime):
            local = moment.astimezone(zone)
            if interval == "15min":
                return local
            if interval == "hour":
                return local.replace(minute=0)
            moment = local.date()
        if interval == "week":
            moment = moment - timedelta(days=moment.weekday())
        elif interval == "month":
            moment = moment.replace(day=1)
        return datetime.combine(moment, time(), zone)
    return key


def _check_filters(session: Session, filters: dict) -> None:
    slug = filters.get("department")
    if slug is not None and session.scalar(
            select(Department.id).where(Department.slug == slug)) is None:
        raise InvalidInput("department", f"Unknown department {slug!r}.")


def service_measurement(session: Session, start: datetime, end: datetime, settings:
                        ReportSettings, *, channel: str | None = None, queue: str | None = None,
                        department: str | None = None, interval: str | None = None,
                        group_by: str | None = None) -> dict:
    """All survey figures for [start, end) per channel and overall, against targets;
    `group_by` adds the same figures per guide, queue or department."""
    problem = period_problem(start, end, interval)
    if problem:
        raise InvalidInput(*problem)
    filters = {"channel": channel, "queue": queue, "department": department}
    _check_filters(session, filters)
    channels = (channel,) if channel else CHANNELS
    totals = cells.sums(session, start, end, filters)
    flat = {(c, dep): t for (_, c, dep), t in totals.items()}
    departments: dict[str, dict] = {}
    for (_, dep), t in flat.items():
        if dep:
            cells.add(departments.setdefault(dep, cells.empty()), t)
    state = session.get(RollupState, 1)
    result = {
        "from": start.isoformat(), "to": end.isoformat(),
        "filters": {k: v for k, v in filters.items() if v is not None},
        "interval": interval,
        "rollups_refreshed_at": state.refreshed_at.isoformat()
        if state and state.refreshed_at else None,
        "definitions": definitions_text(settings),
        **_block(flat, channels, settings),
        "departments": {slug: department_figures(slug, t, settings)
                        for slug, t in sorted(departments.items())
                        if t["cases_forwarded"]},
    }
    if interval:
        rows = cells.sums(session, start, end, filters, _period_of(interval),
                          fine=interval in ("15min", "hour"), by_department=False)
        periods: dict[datetime, dict] = {}
        for (period, c, dep), t in rows.items():
            periods.setdefault(period, {})[(c, dep)] = t
        result["intervals"] = [{"start": p.isoformat(), **_block(periods[p], channels, settings)}
                               for p in sorted(periods)]
    if group_by:
        result["group_by"] = group_by
        result["groups"] = _groups(session, start, end, filters, group_by, channels, settings)
    return result


def _groups(session: Session, start: datetime, end: datetime, filters: dict, group_by: str,
            channels: tuple[str, ...], settings: ReportSettings) -> list[dict]:
    """One block of figures per guide (id), queue or department (slug); None: without one."""
    groups: dict[object, dict] = {}
    for (_, c, dep, key), t in cells.sums(session, start, end, filters,
                                           group=GROUPS[group_by]).items():
        groups.setdefault(key, {})[(c, dep)] = t
    return [{"group": key or None, **_block(groups[key], channels, settings)}
            for key in sorted(groups)]


def definitions_text(s: ReportSettings) -> dict:
    d = s.definitions
    return {
        "period": "contacts that came in during [from, to): calls by queue entry, cases by "
                  "receipt; Stockholm time, 15-minute resolution",
        "filters": "queue: the phone system's queue of a call, the queue of a case; "
                   "department: a call's queue's department, the department a case was "
                   "forwarded to",
        "service_level": {"formula": s.formula, "text": FORMULAS[s.formula],
                          "short_abandon_seconds": d.short_abandon_s,
                          "thresholds_seconds": sorted({d.threshold_t1_s, d.threshold_t2_s})},
        "direct_answer_rate": f"answered within {d.direct_answer_s} s, resolved at first "
                              "contact and not transferred / offered",
        "asa_seconds": "mean wait of answered calls",
        "abandon_rate": f"abandoned after more than {d.short_abandon_s} s / offered",
        "aht_seconds": "talk + hold + after-call work of answered calls with a talk time",
        "transfer_rate": "transferred / answered",
        "answered_within": f"inquiries with a first human reply within "
                           f"{d.answer_within_hours} calendar hours, or by the same clock time "
                           "1 or 2 working days later (office hours: weekdays 08-17, Swedish "
                           "holidays and eves closed) / inquiries received; unanswered ones "
                           "count as not answered",
        "mean_response_office_hours": "mean open office time from receipt to first reply",
        "first_contact_resolution": "inquiries a guide flagged resolved at first contact / "
                                    "inquiries received",
        "first_contact_resolution_repeat": f"inquiries with no new inquiry from the same "
                                           f"contact in the same category within "
                                           f"{d.repeat_days} days / inquiries with a known "
                                           "contact",
        "handled_by_guides": "inquiries never given to a department / inquiries received",
        "departments": "forwarded inquiries by department: resolved count and mean calendar "
                       "time from receipt to resolution",
        "group_by": "guide: who answered a call or holds the case; queue and department as "
                    "for the filters; a group of null holds the contacts without one",
        "courtesy_skr_index": "mean of 25 × (courtesy score − 1), 0–100; comparable from "
                              f"{s.comparable_n} answers",
        "courtesy_kkik_percent": "KKiK gott bemötande: points over maximum, in percent; "
                                 "points per score " + ", ".join(
                                     f"{k}→{v}" for k, v in sorted(KKIK_POINTS.items(),
                                                                   reverse=True)),
    }


def period_problem(start: datetime, end: datetime, interval: str | None,
                   max_days: dict = INTERVAL_DAYS, quarter_hours: bool = True
                   ) -> tuple[str, str] | None:
    """(field, reason) when the period is empty or too long for its interval, or does not
    fall on quarter hours where the report reads rollups (`quarter_hours`)."""
    for name, moment in (("from", start), ("to", end)) if quarter_hours else ():
        utc = moment.astimezone(UTC)
        if utc.second or utc.microsecond or utc.minute % 15:
            return name, "Must fall on a quarter hour (the rollups' resolution)."
    if end <= start:
        return "from", "from must be before to."
    if end - start > timedelta(days=max_days[interval]):
        return "to", f"At most {max_days[interval]} days with interval {interval or 'none'}."
    return None
