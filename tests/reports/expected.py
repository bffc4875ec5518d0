"""The survey's figures computed plainly from generated rows, without the rollups."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from citizencenter.sla.calendars.swedish_holidays import is_closed_day

STOCKHOLM = ZoneInfo("Europe/Stockholm")
S, T1, T2, DIRECT, HOURS, REPEAT_DAYS = 5, 60, 120, 120, 24, 7
KKIK = {5: 3, 4: 2, 3: 1, 2: 0, 1: 0}


def share(part, whole, scale=1.0):
    return round(scale * part / whole, 6) if whole else None


def _open_day(day) -> bool:
    return day.weekday() < 5 and not is_closed_day(day)


def _day_span(day):
    return (datetime.combine(day, time(8), STOCKHOLM).astimezone(UTC),
            datetime.combine(day, time(17), STOCKHOLM).astimezone(UTC))


def office_seconds(start: datetime, end: datetime) -> float:
    """Open time (weekdays 08–17 Stockholm, holidays and eves closed) in [start, end)."""
    total, day = 0.0, start.astimezone(STOCKHOLM).date()
    while day <= end.astimezone(STOCKHOLM).date():
        if _open_day(day):
            low, high = _day_span(day)
            total += max(0.0, (min(high, end) - max(low, start)).total_seconds())
        day += timedelta(days=1)
    return total


def working_day_deadline(received: datetime, days: int) -> datetime:
    """Same clock time `days` working days on, counted from the next opening."""
    local = received.astimezone(STOCKHOLM)
    day, clock = local.date(), local.time()
    if not _open_day(day) or clock >= time(17):
        day += timedelta(days=1)
        while not _open_day(day):
            day += timedelta(days=1)
        clock = time(8)
    elif clock < time(8):
        clock = time(8)
    for _ in range(days):
        day += timedelta(days=1)
        while not _open_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, clock, STOCKHOLM).astimezone(UTC)


def phone(calls, resolved_first_contact: dict) -> dict:
    offered = [c for c in calls if not (c["outcome"] == "abandoned" and c["wait_s"] <= S)]
    answered = [c for c in calls if c["outcome"] == "answered"]
    abandoned = [c for c in calls if c["outcome"] == "abandoned" and c["wait_s"] > S]
    handled = [c for c in answered if c["talk_s"] is not None]
    direct = [c for c in answered if c["wait_s"] <= DIRECT and not c["transferred"]
              and resolved_first_contact.get(c["case_id"]) is True]
    return {
        f"service_level_{T2}": share(len([c for c in answered if c["wait_s"] <= T2]),
                                     len(offered)),
        f"service_level_{T1}": share(len([c for c in answered if c["wait_s"] <= T1]),
                                     len(offered)),
        "direct_answer_rate": share(len(direct), len(offered)),
        "asa_seconds": share(sum(c["wait_s"] for c in answered), len(answered)),
        "abandon_rate": share(len(abandoned), len(offered)),
        "aht_seconds": share(sum(c["talk_s"] + (c["hold_s"] or 0) + (c["acw_s"] or 0)
                                 for c in handled), len(handled)),
        "transfer_rate": share(len([c for c in answered if c["transferred"]]), len(answered)),
        "longest_wait_seconds": max((c["wait_s"] for c in offered if c["wait_s"] is not None),
                                    default=None),
        "calls_offered": len(offered),
    }


def written(cases) -> dict:
    replied = [c for c in cases if c["first_response_at"] is not None]
    n = len(cases)
    return {
        f"answered_within_{HOURS}h": share(len([
            c for c in replied
            if c["first_response_at"] - c["received_at"] <= timedelta(hours=HOURS)]), n),
        "answered_within_1_working_day": share(len([
            c for c in replied
            if c["first_response_at"] <= working_day_deadline(c["received_at"], 1)]), n),
        "answered_within_2_working_days": share(len([
            c for c in replied
            if c["first_response_at"] <= working_day_deadline(c["received_at"], 2)]), n),
        "mean_response_office_hours": share(sum(
            office_seconds(c["received_at"], c["first_response_at"]) for c in replied),
            len(replied), 1 / 3600),
        "mean_response_hours": share(sum(
            (c["first_response_at"] - c["received_at"]).total_seconds() for c in replied),
            len(replied), 1 / 3600),
    }


def case_figures(cases, all_cases, feedback_by_case: dict) -> dict:
    inquiries = [c for c in cases if c["kind"] == "inquiry"]
    later = {}
    for c in all_cases:
        if c["kind"] == "inquiry" and c["contact_id"] is not None:
            later.setdefault((c["contact_id"], c["category_id"]), []).append(c["received_at"])

    def repeated(c):
        return any(c["received_at"] < t <= c["received_at"] + timedelta(days=REPEAT_DAYS)
                   for t in later.get((c["contact_id"], c["category_id"]), []))

    known = [c for c in inquiries if c["contact_id"] is not None]
    forwarded = [c for c in inquiries if c["department_id"] is not None]
    answers = [feedback_by_case[c["id"]] for c in inquiries if c["id"] in feedback_by_case]
    n, rated = len(inquiries), len(answers)
    return {
        "cases_received": n,
        "first_contact_resolution": share(len([c for c in inquiries
                                               if c["resolved_at_first_contact"]]), n),
        "first_contact_resolution_repeat": share(len([c for c in known if not repeated(c)]),
                                                 len(known)),
        "handled_by_guides": share(n - len(forwarded), n),
        "forwarded_to_departments": share(len(forwarded), n),
        "courtesy_skr_index": share(sum(25 * (f["courtesy"] - 1) for f in answers), rated),
        "courtesy_kkik_percent": share(sum(KKIK[f["courtesy"]] for f in answers), 3 * rated,
                                       100),
        "ease_mean": share(sum(f["ease"] for f in answers), rated),
        "clarity_mean": share(sum(f["clarity"] for f in answers), rated),
    }


def departments(cases, slugs: dict) -> dict:
    out = {}
    for c in cases:
        if c["kind"] != "inquiry" or c["department_id"] is None:
            continue
        d = out.setdefault(slugs[c["department_id"]], {"forwarded": 0, "resolved": 0, "s": 0.0})
        d["forwarded"] += 1
        if c["resolved_at"] is not None:
            d["resolved"] += 1
            d["s"] += (c["resolved_at"] - c["received_at"]).total_seconds()
    return {slug: {"forwarded": d["forwarded"], "resolved": d["resolved"],
                   "mean_resolution_hours": share(d["s"], d["resolved"], 1 / 3600)}
            for slug, d in out.items()}


def group_of(group_by: str, data: dict):
    """(call's group, case's group) as the reports file them: the guide who answered the call
    or holds the case, the queue, the department (of a call's queue); None when none."""
    if group_by == "guide":
        return (lambda c: c["agent_user_id"]), (lambda c: c["assignee_id"])
    if group_by == "queue":
        return (lambda c: c["queue"]), (lambda c: data["queue_slugs"].get(c["queue_id"]))
    return ((lambda c: data["queue_departments"].get(c["queue"])),
            (lambda c: data["department_slugs"].get(c["department_id"])))
