"""Idempotency-Key on POST, with Stripe's semantics.

Same key and same request: the stored response again. Same key, other request: 422.
Same key while the first request still runs: 409. Only successful responses are
kept; a failed request releases its key so the client can retry.
"""

import contextlib
import hashlib
import json
from datetime import datetime, timedelta
from functools import wraps

from flask import Response, current_app, g, make_response, request
from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from citizencenter import db
from citizencenter.db import Base, insert_if_absent, utcnow
from citizencenter.errors import AppError, IdempotencyKeyInFlight, IdempotencyKeyReused

REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict | None] = mapped_column(JSON)
    response_body: Mapped[str | None] = mapped_column(Text)


class InvalidIdempotencyKey(AppError):
    status, title, slug = 400, "Invalid Idempotency-Key", "invalid-idempotency-key"


def claim(session: Session, owner: str, key: str, fingerprint: str, *, ttl_s: int,
          lock_s: int) -> IdempotencyKey:
    """Take the key for this request, or return the completed record to replay.

    A new key is inserted, not committed: it commits together with the request's own
    work, so the key and the effect it guards appear at once. A fresh key costs one
    statement; a concurrent request with the same key waits on the unique index, inserts
    nothing and then finds the key in flight.
    """
    now = utcnow()
    taken = session.execute(
        insert_if_absent(session, IdempotencyKey, "owner", "key")
        .values(owner=owner, key=key, fingerprint=fingerprint, created_at=now, locked_at=now)
        .returning(IdempotencyKey.id)).scalar()
    if taken is not None:
        # Only its id and that it has no response yet are read; `complete` writes by id.
        return IdempotencyKey(id=taken, owner=owner, key=key, fingerprint=fingerprint,
                              created_at=now, locked_at=now)
    record = session.scalar(select(IdempotencyKey).where(IdempotencyKey.owner == owner,
                                                         IdempotencyKey.key == key))
    if record is not None and record.created_at < now - timedelta(seconds=ttl_s):
        session.delete(record)
        session.flush()
        record = None
    if record is None:
        record = IdempotencyKey(owner=owner, key=key, fingerprint=fingerprint, locked_at=now)
        session.add(record)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise IdempotencyKeyInFlight("Another request with this key is running.") from None
        return record
    if record.fingerprint != fingerprint:
        session.rollback()
        raise IdempotencyKeyReused("This Idempotency-Key was used with another request.")
    if record.response_status is None:
        if record.locked_at and record.locked_at > now - timedelta(seconds=lock_s):
            session.rollback()
            raise IdempotencyKeyInFlight("A request with this key is still running.")
        record.locked_at = now  # the earlier request died; this one takes over
        session.flush()
    return record


def complete(session: Session, record_id: int, status: int, headers: dict, body: str) -> None:
    session.execute(update(IdempotencyKey).where(IdempotencyKey.id == record_id).values(
        response_status=status, response_headers=headers, response_body=body, locked_at=None))
    session.commit()


def release(session: Session, record_id: int) -> None:
    """Forget the key of a failed request (it may already have been committed)."""
    session.rollback()
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
    session.commit()


def purge_expired(session: Session, ttl_s: int) -> int:
    cutoff = utcnow() - timedelta(seconds=ttl_s)
    return db.delete_in_slices(session, IdempotencyKey, IdempotencyKey.created_at < cutoff)


def request_fingerprint() -> str:
    body = request.get_data(cache=True)
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.encode(), body):
        digest.update(part + b"\0")
    return digest.hexdigest()


def idempotent(view):
    """Honour an Idempotency-Key header on a POST view (place below the auth decorator)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise InvalidIdempotencyKey("Use 1 to 255 printable characters.")
        config = current_app.config
        record = claim(db.session, g.principal.actor, key, request_fingerprint(),
                       ttl_s=config["IDEMPOTENCY_TTL_S"], lock_s=config["IDEMPOTENCY_LOCK_S"])
        if record.response_status is not None:
            db.session.rollback()
            replay = Response(record.response_body, status=record.response_status,
                              headers=record.response_headers)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            release(db.session, record.id)
            raise
        if 200 <= response.status_code < 300:
            headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
            complete(db.session, record.id, response.status_code, headers,
                     response.get_data(as_text=True))
        else:
            release(db.session, record.id)
        return response

    return wrapper
