"""Report facts and their additive rollups.

A fact is one call or one case reduced to the measures the service measurement
needs, in the 15-minute bucket (UTC, which is also a Stockholm quarter hour) it
started in. Cells sum facts per bucket, channel, queue, department and guide;
day cells sum those per Stockholm day without the guide. Every measure is a count,
a sum or a maximum, so any period is a SUM over cells. Hour cells hold the phone's
offered and answered calls per Stockholm day and hour, for the weekday-hour heatmap.
"""

from datetime import date, datetime

from sqlalchemy import JSON, Date, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.db import Base

# Measures summed into cells; `MAXIMA` are taken as the maximum instead.
COUNTS = (
    "calls_offered", "calls_answered", "calls_abandoned", "calls_abandoned_short",
    "calls_exited", "calls_answered_within_t1", "calls_answered_within_t2", "calls_direct",
    "calls_transferred", "calls_handled",
    "cases", "cases_resolved_first_contact", "cases_with_contact", "cases_not_repeated",
    "cases_forwarded", "cases_forwarded_resolved", "cases_responded",
    "cases_responded_within_hours", "cases_responded_within_1wd",
    "cases_responded_within_2wd",
    "feedback_n", "feedback_courtesy_sum", "feedback_kkik_points", "feedback_ease_sum",
    "feedback_clarity_sum",
)
# Upper bounds (hours) of the response-time distribution's bins, the last bin open-ended:
# calendar hours, and office hours (one working day is 9 office hours). Each answered
# inquiry counts 1 in one bin of each, so the chart is a sum over cells like any figure.
CALENDAR_BINS = (1, 4, 8, 24, 48, 72, 120)
OFFICE_BINS = (1, 4, 9, 18, 27, 45)
CALENDAR_BIN_COUNTS = tuple(f"cases_response_bin_{i}" for i in range(len(CALENDAR_BINS) + 1))
OFFICE_BIN_COUNTS = tuple(f"cases_response_office_bin_{i}" for i in range(len(OFFICE_BINS) + 1))
COUNTS += CALENDAR_BIN_COUNTS + OFFICE_BIN_COUNTS
SUMS = ("calls_handle_s", "calls_wait_answered_s", "cases_forwarded_resolution_s",
        "cases_response_s", "cases_response_office_s")
MAXIMA = ("calls_longest_wait_s",)
MEASURES = COUNTS + SUMS + MAXIMA
DIMENSIONS = ("channel", "queue", "department")


class _Measures:
    """The measure columns shared by facts and both cell tables."""


for _name in COUNTS:
    setattr(_Measures, _name, mapped_column(Integer, default=0))
for _name in SUMS:
    setattr(_Measures, _name, mapped_column(Double, default=0.0))
for _name in MAXIMA:
    setattr(_Measures, _name, mapped_column(Double, nullable=True))
_Measures.__annotations__ = {
    **{n: Mapped[int] for n in COUNTS}, **{n: Mapped[float] for n in SUMS},
    **{n: Mapped[float | None] for n in MAXIMA}}


class ReportFact(_Measures, Base):
    """One call (kind "call") or one inquiry case (kind "case") as the reports count it."""

    __tablename__ = "report_facts"
    __table_args__ = (Index("ix_report_facts_bucket_start", "bucket_start"),)

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket_start: Mapped[datetime]
    local_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    queue: Mapped[str] = mapped_column(String(64))  # "" when none
    department: Mapped[str] = mapped_column(String(64))  # slug, "" when none
    guide_id: Mapped[int] = mapped_column(default=0)  # 0 when none


class RollupCell(_Measures, Base):
    """Facts summed per 15 minutes, channel, queue, department and guide."""

    __tablename__ = "rollup_cells"

    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    guide_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    local_date: Mapped[date] = mapped_column(Date, index=True)


class RollupDay(_Measures, Base):
    """Cells summed per Stockholm day, channel, queue and department."""

    __tablename__ = "rollup_days"

    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)


class RollupHour(Base):
    """Offered and answered calls per Stockholm day and hour of the day, queue and
    department: the heatmap of calls per weekday and hour. The hour the clock goes back
    counts twice into its hour; the hour it skips has no row."""

    __tablename__ = "rollup_hours"

    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    calls_offered: Mapped[int] = mapped_column(default=0)
    calls_answered: Mapped[int] = mapped_column(default=0)


class RollupState(Base):
    """How far the rollups have read each source, and the definitions they were built with."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    definitions: Mapped[dict | None] = mapped_column(JSON)
    calls_seen_at: Mapped[datetime | None]
    cases_seen_at: Mapped[datetime | None]
    feedback_seen_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]


# The incremental refresh finds changed rows by updated_at; these indexes belong to
# that read path, so they are declared here rather than with the tables they index.
Index("ix_calls_report_watermark", Call.updated_at)
Index("ix_calls_report_case", Call.case_id)
Index("ix_cases_report_watermark", Case.updated_at)
