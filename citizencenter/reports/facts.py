"""Reduce one call or one case to its report fact: plain functions over plain values.

The phone definitions are those of reports/telephony.py, so rollups give the same
figures as the telephony report. Written-channel times use the office-hours calendar.
"""

from bisect import bisect_right
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from citizencenter.config import local_zone
from citizencenter.reports.models import (
    CALENDAR_BIN_COUNTS,
    CALENDAR_BINS,
    COUNTS,
    MAXIMA,
    OFFICE_BIN_COUNTS,
    OFFICE_BINS,
    SUMS,
)
from citizencenter.sla.calendars.calendar import BusinessCalendar

BUCKET_MINUTES = 15
# KKiK "gott bemötande" points from the 1–5 courtesy score.
KKIK_POINTS = {5: 3, 4: 2, 3: 1, 2: 0, 1: 0}
KKIK_MAX_POINTS = 3


@dataclass(frozen=True)
class Definitions:
    """The parameters facts are computed with; a change rebuilds the rollups."""

    short_abandon_s: float = 5
    threshold_t1_s: int = 60
    threshold_t2_s: int = 120
    direct_answer_s: int = 120
    answer_within_hours: int = 24
    repeat_days: int = 7
    calendar: str = "office-hours/1"

    def as_dict(self) -> dict:
        return asdict(self)


def bucket_of(moment: datetime) -> tuple[datetime, date]:
    """The 15-minute bucket (UTC start) and its Stockholm date; offsets are whole hours."""
    start = moment.replace(minute=moment.minute - moment.minute % BUCKET_MINUTES,
                           second=0, microsecond=0)
    return start, start.astimezone(local_zone()).date()


def response_bin(seconds: float, bounds: tuple[int, ...]) -> int | None:
    """The distribution's bin of a response time: the first whose upper bound (hours) it
    stays below, the open last bin beyond them all, none when negative."""
    if seconds < 0:
        return None
    for i, high in enumerate(bounds):
        if seconds < high * 3600:
            return i
    return len(bounds)


def _empty() -> dict:
    return {**dict.fromkeys(COUNTS, 0), **dict.fromkeys(SUMS, 0.0),
            **dict.fromkeys(MAXIMA, None)}


def call_fact(call, resolved_at_first_contact: bool | None, department: str,
              d: Definitions) -> dict | None:
    """The fact of one call (a row with the calls table's columns), or None without entry."""
    if call.entered_at is None:
        return None
    bucket_start, local_date = bucket_of(call.entered_at)
    wait = call.wait_s
    answered = call.outcome == "answered"
    short = call.outcome == "abandoned" and (wait or 0) <= d.short_abandon_s
    handled = answered and call.talk_s is not None
    fact = _empty()
    fact.update(
        calls_offered=int(not short),
        calls_answered=int(answered),
        calls_abandoned=int(call.outcome == "abandoned" and not short),
        calls_abandoned_short=int(short),
        calls_exited=int(call.outcome == "exited"),
        calls_answered_within_t1=int(answered and wait is not None and wait <= d.threshold_t1_s),
        calls_answered_within_t2=int(answered and wait is not None and wait <= d.threshold_t2_s),
        calls_direct=int(answered and wait is not None and wait <= d.direct_answer_s
                         and not call.transferred and resolved_at_first_contact is True),
        calls_transferred=int(answered and bool(call.transferred)),
        calls_handled=int(handled),
        calls_handle_s=float((call.talk_s or 0) + (call.hold_s or 0) + (call.acw_s or 0))
        if handled else 0.0,
        calls_wait_answered_s=float(wait) if answered and wait is not None else 0.0,
        calls_longest_wait_s=float(wait) if not short and wait is not None else None,
    )
    return {"kind": "call", "source_id": str(call.id), "bucket_start": bucket_start,
            "local_date": local_date, "channel": "phone", "queue": call.queue or "",
            "department": department, "guide_id": call.agent_user_id or 0, **fact}


class RepeatIndex:
    """Receipt times of inquiries per (contact, category), to find repeat contacts."""

    def __init__(self, rows):
        self._times: dict[tuple, list[datetime]] = {}
        for contact_id, category_id, received_at in rows:
            self._times.setdefault((contact_id, category_id), []).append(received_at)
        for times in self._times.values():
            times.sort()

    def repeated(self, contact_id, category_id, received_at: datetime, days: int) -> bool:
        """Whether another inquiry came in after `received_at`, within `days` days."""
        times = self._times.get((contact_id, category_id), [])
        i = bisect_right(times, received_at)
        return i < len(times) and times[i] <= received_at + timedelta(days=days)


def case_fact(case, repeats: RepeatIndex, d: Definitions,
              calendar: BusinessCalendar) -> dict | None:
    """The fact of one inquiry case (a row with case, queue, department and feedback)."""
    if case.kind != "inquiry":
        return None
    bucket_start, local_date = bucket_of(case.received_at)
    fact = _empty()
    fact.update(cases=1, cases_resolved_first_contact=int(bool(case.resolved_at_first_contact)))
    if case.contact_id is not None:
        fact["cases_with_contact"] = 1
        fact["cases_not_repeated"] = int(not repeats.repeated(
            case.contact_id, case.category_id, case.received_at, d.repeat_days))
    if case.department:
        fact["cases_forwarded"] = 1
        if case.resolved_at is not None:
            fact["cases_forwarded_resolved"] = 1
            fact["cases_forwarded_resolution_s"] = max(
                0.0, (case.resolved_at - case.received_at).total_seconds())
    if case.first_response_at is not None:
        received, replied = case.received_at, max(case.first_response_at, case.received_at)
        fact.update(
            cases_responded=1,
            cases_response_s=(replied - received).total_seconds(),
            cases_responded_within_hours=int(
                replied - received <= timedelta(hours=d.answer_within_hours)),
            cases_responded_within_1wd=int(replied <= calendar.add_business_days(received, 1)),
            cases_responded_within_2wd=int(replied <= calendar.add_business_days(received, 2)),
            cases_response_office_s=calendar.business_time_between(
                received, replied).total_seconds(),
        )
        for names, seconds, bounds in (
                (CALENDAR_BIN_COUNTS, fact["cases_response_s"], CALENDAR_BINS),
                (OFFICE_BIN_COUNTS, fact["cases_response_office_s"], OFFICE_BINS)):
            i = response_bin(seconds, bounds)
            if i is not None:
                fact[names[i]] = 1
    if case.courtesy is not None:
        fact.update(feedback_n=1, feedback_courtesy_sum=case.courtesy,
                    feedback_kkik_points=KKIK_POINTS[case.courtesy],
                    feedback_ease_sum=case.ease, feedback_clarity_sum=case.clarity)
    return {"kind": "case", "source_id": str(case.id), "bucket_start": bucket_start,
            "local_date": local_date, "channel": str(case.channel), "queue": case.queue or "",
            "department": case.department or "", "guide_id": case.assignee_id or 0, **fact}
