"""Reading the centre's reference data."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.pagination import Paginator


def page_of(session: Session, model, paginator: Paginator, limit: int | None = None,
            cursor: str | None = None) -> tuple:
    """Page through a reference table in id order."""
    return paginator.page(session, select(model), (model.id,), to_key=lambda r: [r.id],
                          from_key=lambda k: (int(k[0]),), filters={"table": model.__tablename__},
                          limit=limit, cursor=cursor, descending=False)
