"""The audit trail: who read or changed what, when; entries are only ever added."""

import hashlib
import json
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from citizencenter.audit.models import AuditEntry
from citizencenter.db import utcnow
from citizencenter.pagination import Paginator


class Caller(Protocol):
    """Who asks to read the trail (an accounts Principal: accounts sits above audit)."""

    def require(self, scope: str) -> None: ...


AUDIT_SCOPE = "audit:read"  # no role but admin ("*") holds it


def record(session: Session, actor: str, action: str, entity_type: str, entity_id,
           **data) -> None:
    """Add an audit entry to the caller's transaction. Keep personal data out of `data`."""
    session.add(AuditEntry(actor=actor, action=action, entity_type=entity_type,
                           entity_id=str(entity_id), data=plain(data)))


def entry(actor: str, action: str, entity_type: str, entity_id, **data) -> dict:
    """An audit entry's row, for `write` to insert with others; as `record` keeps it."""
    return {"occurred_at": utcnow(), "actor": actor, "action": action,
            "entity_type": entity_type, "entity_id": str(entity_id), "data": plain(data)}


def write(session: Session, rows: list[dict]) -> None:
    """Insert entries made with `entry`, in their order, with one executemany."""
    if rows:
        session.execute(insert(AuditEntry.__table__), rows)
        rows.clear()


def plain(value):
    """`value` as JSON keeps it: enums by value, times, dates and ids as text."""
    return json.loads(json.dumps(value, default=str))


def changes(old: dict, new: dict) -> dict:
    """The fields that differ, as {"old": {...}, "new": {...}}; empty when none did."""
    old, new = plain(old), plain(new)
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if not changed:
        return {}
    return {"old": {k: old.get(k) for k in changed}, "new": {k: new.get(k) for k in changed}}


def record_changes(session: Session, actor: str, action: str, entity_type: str, entity_id,
                   old: dict, new: dict) -> None:
    """Record a change with the fields that differ, old and new; nothing when none did."""
    changed = changes(old, new)
    if changed:
        record(session, actor, action, entity_type, entity_id, **changed)


def fingerprint(secret: str | None) -> str | None:
    """Tells secrets apart in the trail without revealing them (they are random, not guessable)."""
    return None if secret is None else "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def entries_for(session: Session, entity_type: str, entity_id) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)
    ))


def list_entries(session: Session, caller: Caller, paginator: Paginator, *,
                 limit: int | None = None, cursor: str | None = None, **filters) -> tuple:
    """Page through the trail, newest first (admins only); `filters` may name an actor."""
    caller.require(AUDIT_SCOPE)
    query = select(AuditEntry)
    if "case" in filters:
        query = query.where(AuditEntry.entity_type == "case",
                            AuditEntry.entity_id == str(filters["case"]))
    for name, column in (("actor", AuditEntry.actor), ("action", AuditEntry.action),
                         ("entity_type", AuditEntry.entity_type),
                         ("entity_id", AuditEntry.entity_id)):
        if name in filters:
            query = query.where(column == filters[name])
    if "from" in filters:
        query = query.where(AuditEntry.occurred_at >= filters["from"])
    if "to" in filters:
        query = query.where(AuditEntry.occurred_at < filters["to"])
    return paginator.page(session, query, (AuditEntry.id,), to_key=lambda e: [e.id],
                          from_key=lambda k: (int(k[0]),),
                          filters={"list": "audit", **filters}, limit=limit, cursor=cursor)
