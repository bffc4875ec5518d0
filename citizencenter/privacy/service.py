"""Personal identity numbers: masked in every stored text, sealed and hashed beside it.

The text of a case keeps `YYYYMMDD-XXXX`; the number itself is kept once per place it
was found, encrypted (SecretBox, purpose "identity-numbers") and as a keyed hash
(HMAC-SHA256, purpose "identity-number-lookup") for exact lookup. Both keys derive from
SECRET_KEY and its fallbacks, so `citizencenter rotate-keys` re-seals and re-hashes them.
The package sits below cases: cases masks what it stores and records what it found here.
"""

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from citizencenter import keys
from citizencenter.privacy import detection
from citizencenter.privacy.models import IdentityNumber

SEAL_PURPOSE = "identity-numbers"
LOOKUP_PURPOSE = "identity-number-lookup"
KEPT_MAIL_PURPOSE = "kept-mail"
# How a Fernet token begins (version byte 0x80, base64): mail kept before sealing never does.
_SEALED_PREFIX = b"gAAAAA"

_secret_keys: list[str] = []


class KeysNotSet(RuntimeError):
    pass


def use_keys(secret_keys: keys.SecretKeys) -> None:
    """Seal and hash under these keys (SECRET_KEY first, then its fallbacks); at app start."""
    _secret_keys[:] = _as_list(secret_keys)


def _as_list(secret_keys: keys.SecretKeys) -> list[str]:
    return [secret_keys] if isinstance(secret_keys, str) else list(secret_keys)


def _keys() -> list[str]:
    if not _secret_keys:
        # Storing a number unsealed or unhashed is never the fallback: refuse, loudly.
        raise KeysNotSet("No keys for identity numbers: build the app "
                         "(citizencenter.create_app) before storing case text.")
    return _secret_keys


def _box(secret_keys: keys.SecretKeys | None = None) -> keys.SecretBox:
    return keys.SecretBox(secret_keys or _keys(), purpose=SEAL_PURPOSE)


def lookup_hashes(number: str) -> list[str]:
    """The number's keyed hash under the current key, then under the older ones."""
    return [_hash(keys.derive(k, LOOKUP_PURPOSE), number) for k in _keys()]


def _hash(key: bytes, number: str) -> str:
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def mask(text: str | None) -> tuple[str | None, list[str]]:
    """`text` with every number masked, and the numbers (12 digits) it held."""
    if not text:
        return text, []
    return detection.mask(text)


def mask_json(value):
    """A JSON value with every number in its strings masked (Meta's events, mail headers)."""
    if isinstance(value, str):
        return detection.mask(value)[0]
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    return value


def json_holds_number(value) -> bool:
    return bool(detection.find(json.dumps(value, ensure_ascii=False)))


def record(connection: Connection, found: Iterable[tuple[uuid.UUID, int | None, str]]) -> int:
    """Keep each (case id, message id, number) found, sealed and hashed; returns how many.

    Runs on the connection of a flush in progress, so the rows join its transaction.
    """
    box, current = _box(), keys.derive(_keys()[0], LOOKUP_PURPOSE)
    rows = [{"case_id": case_id, "message_id": message_id, "sealed": box.seal(number),
             "lookup_hash": _hash(current, number)} for case_id, message_id, number in found]
    if rows:
        connection.execute(insert(IdentityNumber), rows)
    return len(rows)


def case_ids_of(number: str):
    """A subquery of the ids of the cases where `number` (12 digits) was found."""
    return select(IdentityNumber.case_id).where(
        IdentityNumber.lookup_hash.in_(lookup_hashes(number))).distinct()


def numbers_of(session: Session, case_id: uuid.UUID) -> list[dict]:
    """The numbers found on one case, opened: each once, with where it was found."""
    rows = session.scalars(select(IdentityNumber).where(IdentityNumber.case_id == case_id)
                           .order_by(IdentityNumber.id)).all()
    box, shown = _box(), {}
    for row in rows:
        number = box.open(row.sealed)
        entry = shown.setdefault(number, {"number": number, "mask": detection.masked(number),
                                          "message_ids": [], "in_subject": False})
        if row.message_id is None:
            entry["in_subject"] = True
        elif row.message_id not in entry["message_ids"]:
            entry["message_ids"].append(row.message_id)
    return list(shown.values())


def reencrypt_numbers(session: Session, secret_keys: keys.SecretKeys) -> int:
    """Seal and hash every kept number under the current key; returns how many."""
    box = _box(secret_keys)
    current = keys.derive(_as_list(secret_keys)[0], LOOKUP_PURPOSE)
    rows = session.scalars(select(IdentityNumber)).all()
    for row in rows:
        number = box.open(row.sealed)
        row.sealed, row.lookup_hash = box.seal(number), _hash(current, number)
    session.commit()
    return len(rows)


def seal_mail(raw: bytes) -> bytes:
    """Raw mail kept whole (quarantine), sealed: it may hold a number in any encoding."""
    return keys.box(_keys(), purpose=KEPT_MAIL_PURPOSE).encrypt(raw)


def open_mail(stored: bytes) -> bytes:
    """Kept raw mail, opened; mail kept before sealing comes back as it is."""
    if not stored.startswith(_SEALED_PREFIX):
        return stored
    return keys.box(_keys(), purpose=KEPT_MAIL_PURPOSE).decrypt(stored)


def reseal_mail_column(session: Session, column, secret_keys: keys.SecretKeys) -> int:
    """Seal every kept raw mail of an ORM `column` under the current key, the ones kept
    before sealing too; returns how many. The caller commits."""
    box = keys.box(_as_list(secret_keys), purpose=KEPT_MAIL_PURPOSE)
    rows = session.scalars(select(column.class_).where(column.is_not(None))).all()
    for row in rows:
        stored = bytes(getattr(row, column.key))
        setattr(row, column.key, box.rotate(stored) if stored.startswith(_SEALED_PREFIX)
                else box.encrypt(stored))
    return len(rows)
