"""The call history other domains plan with: offered calls per local day and hour."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citizencenter.channels.phone.models import Call
from citizencenter.sla.staffing import service as staffing


def offered_per_hour(session: Session, first: date, last: date,
                     queue: str | None = None) -> list[tuple[date, int, int]]:
    """(local date, local hour, calls) for the days [first, last], counted in SQL."""
    query = (select(Call.local_date, Call.local_hour, func.count())
             .where(Call.entered_at.is_not(None), Call.local_date >= first,
                    Call.local_date <= last, Call.local_hour.is_not(None))
             .group_by(Call.local_date, Call.local_hour))
    if queue is not None:
        query = query.where(Call.queue == queue)
    return [tuple(row) for row in session.execute(query).all()]


def provide_call_history() -> None:
    """Let staffing forecast from the calls (run at app start: sla sits below phone)."""
    staffing.set_call_history(offered_per_hour)
