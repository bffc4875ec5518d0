"""Human case references, MC-YYYY-NNNNNN, numbered per Swedish calendar year.

On PostgreSQL each year has its own sequence: nextval never waits for another
transaction, so concurrent intakes do not queue behind each other (a rolled-back
intake leaves a gap, which a reference may have). SQLite serialises writers
anyway and keeps a counter row per year.
"""

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from citizencenter.cases.models import Case, ReferenceCounter
from citizencenter.config import local_zone
from citizencenter.db import is_postgresql

_ready_sequences: set[tuple[str, int]] = set()


def next_reference(session: Session, at: datetime) -> str:
    year = at.astimezone(local_zone()).year
    if is_postgresql(session):
        number = session.execute(text(f"SELECT nextval('{_sequence(session, year)}')")) \
            .scalar_one()
    else:
        number = session.execute(
            sqlite.insert(ReferenceCounter).values(year=year, last_value=1)
            .on_conflict_do_update(index_elements=["year"],
                                   set_={"last_value": ReferenceCounter.last_value + 1})
            .returning(ReferenceCounter.last_value)).scalar_one()
    return f"MC-{year}-{number:06d}"


def _sequence(session: Session, year: int) -> str:
    """The year's sequence, created outside the caller's transaction the first time."""
    name = f"case_reference_{year}"
    engine = session.get_bind().engine
    key = (str(engine.url), year)
    if key in _ready_sequences:
        return name
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        exists = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
        if exists is None:
            # Continue after the references already handed out this year.
            highest = conn.execute(select(func.max(Case.reference))
                                   .where(Case.reference.like(f"MC-{year}-%"))).scalar()
            start = int(highest.rsplit("-", 1)[1]) + 1 if highest else 1
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} START {start}"))
    _ready_sequences.add(key)
    return name
