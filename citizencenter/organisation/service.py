"""Reading the centre's reference data."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import reference_cache
from citizencenter.errors import InvalidInput
from citizencenter.pagination import Page, Paginator


def by_slug(session: Session, model, slug: str | None, field: str, noun: str | None = None):
    """The row of `model` with this slug (None for None); an unknown slug is invalid `field`."""
    if slug is None:
        return None
    def load():
        return session.scalar(select(model).where(model.slug == slug))

    row = reference_cache.attach(session, reference_cache.cached(
        session, (model.__tablename__, slug), load, rows=True)) \
        if model.__tablename__ in reference_cache.REFERENCE_TABLES else load()
    if row is None:
        raise InvalidInput(field, f"Unknown {noun or field} {slug!r}.")
    return row


def page_of(session: Session, model, paginator: Paginator, limit: int | None = None,
            cursor: str | None = None) -> Page:
    """Page through a reference table in id order."""
    return paginator.page(session, select(model), (model.id,), to_key=lambda r: [r.id],
                          from_key=lambda k: (int(k[0]),), filters={"table": model.__tablename__},
                          limit=limit, cursor=cursor, descending=False)
