"""Check every timer against its ledger: the ledger is the record, a timer its summary.

A timer's state is replayed from its ledger entries and its due and warning times are
computed again from its own snapshot (target, calendar version) and the pauses the ledger
holds, exactly as `clocks` computed them. Whatever differs is a mismatch: a timer changed
outside the clocks, or a ledger entry missing.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.sla import clocks
from citizencenter.sla.enums import LedgerEvent, TimerStatus
from citizencenter.sla.models import SlaLedgerEntry, SlaTimer

BATCH = 500
COMPARED = ("status", "started_at", "target_s", "due_at", "warn_at", "paused_s", "paused_since",
            "warned", "breached_at", "fulfilled_at", "stopped_at")


@dataclass(frozen=True)
class Mismatch:
    timer_id: int
    case_id: str
    field: str
    stored: Any
    expected: Any

    def __str__(self) -> str:
        return (f"timer {self.timer_id} (case {self.case_id}): {self.field} is "
                f"{self.stored!r}, its ledger says {self.expected!r}")


def _apply(state: dict, pauses: list, entry: SlaLedgerEntry) -> None:
    event, at = entry.event, entry.occurred_at
    if event == LedgerEvent.STARTED:
        state.update(status=TimerStatus.RUNNING, started_at=at)
    elif event == LedgerEvent.PAUSED:
        state.update(status=TimerStatus.PAUSED, paused_since=at)
    elif event == LedgerEvent.RESUMED and state["paused_since"] is not None:
        pauses.append((state["paused_since"], at))
        state.update(status=TimerStatus.RUNNING, paused_since=None)
    elif event == LedgerEvent.WARNED:
        state["warned"] = True
    elif event == LedgerEvent.BREACHED:
        state["breached_at"] = at
    elif event == LedgerEvent.FULFILLED:
        state.update(status=TimerStatus.FULFILLED, fulfilled_at=at)
    elif event == LedgerEvent.STOPPED:
        state.update(status=TimerStatus.STOPPED, stopped_at=at)


def replay(timer: SlaTimer, entries: list[SlaLedgerEntry]) -> dict:
    """The state `timer` should have, from its ledger entries (in the order written)."""
    state = dict.fromkeys(COMPARED)
    state.update(warned=False, paused_s=0)
    pauses: list[clocks.Pause] = []
    for entry in entries:
        _apply(state, pauses, entry)
    if state["started_at"] is None:
        return state
    if pauses:  # the last resume measured its pause as clocks.resume does
        paused_at, resumed_at = pauses[-1]
        pauses[-1] = (paused_at, max(paused_at, resumed_at))
    calendar = clocks.calendar_of(timer)
    budget, state["due_at"], state["warn_at"] = clocks.deadlines(
        calendar, state["started_at"], timer.target_value, timer.target_unit,
        timer.warn_at_percent, pauses)
    state["target_s"] = int(budget.total_seconds())
    if pauses:
        state["paused_s"] = int(sum((calendar.business_time_between(a, b) for a, b in pauses),
                                    timedelta()).total_seconds())
    return state


def _mismatches(timer: SlaTimer, entries: list[SlaLedgerEntry]) -> list[Mismatch]:
    expected = replay(timer, entries)
    stored = {field: getattr(timer, field, None) for field in COMPARED}
    stored["warned"] = timer.warned_at is not None
    return [Mismatch(timer.id, str(timer.case_id), field, stored[field], expected[field])
            for field in COMPARED if stored[field] != expected[field]]


def verify_timers(session: Session) -> list[Mismatch]:
    """Recompute every timer from its ledger; list what differs (empty when all agree)."""
    found: list[Mismatch] = []
    last_id = 0
    while True:
        timers = list(session.scalars(select(SlaTimer).where(SlaTimer.id > last_id)
                                      .order_by(SlaTimer.id).limit(BATCH)))
        if not timers:
            return found
        entries: dict[int, list[SlaLedgerEntry]] = {timer.id: [] for timer in timers}
        for entry in session.scalars(select(SlaLedgerEntry)
                                     .where(SlaLedgerEntry.timer_id.in_(entries))
                                     .order_by(SlaLedgerEntry.id)):
            entries[entry.timer_id].append(entry)
        for timer in timers:
            found.extend(_mismatches(timer, entries[timer.id]))
        last_id = timers[-1].id
