"""One key per purpose, derived from SECRET_KEY, and the boxes that keep secrets at rest.

SECRET_KEY is never used directly: HKDF-SHA256 derives a separate key for each purpose,
so a key leaked from one use (a signed cursor, a hashed address) gives nothing for
another. SECRET_KEY_FALLBACKS holds older keys during a rotation: they still decrypt
and verify, the current key alone encrypts and signs.
"""

import base64
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

MIN_SECRET_KEY_LENGTH = 32
# Values that shipped in code or documentation: known to anyone, so never a key.
KNOWN_DEFAULTS = frozenset({"dev-only-change-me", "change-me", "changeme", "secret",
                            "test-secret", "bench-secret-not-for-production"})

# SECRET_KEY alone, or the list of keys.secret_keys(): the current key, then older ones.
SecretKeys = str | Sequence[str]


class WeakSecretKey(ValueError):
    pass


def check_strong(secret_key: str, name: str = "SECRET_KEY") -> None:
    """Refuse a key that is short or publicly known."""
    if not secret_key:
        raise WeakSecretKey(f"{name} is not set")
    if secret_key in KNOWN_DEFAULTS or len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise WeakSecretKey(f"{name} is too weak: give at least {MIN_SECRET_KEY_LENGTH} "
                            "random characters")


def secret_keys(config: Mapping) -> list[str]:
    """The current SECRET_KEY, then the older ones of SECRET_KEY_FALLBACKS."""
    fallbacks = [k.strip() for k in config.get("SECRET_KEY_FALLBACKS", "").split(",")
                 if k.strip()]
    return [config["SECRET_KEY"], *(k for k in fallbacks if k != config["SECRET_KEY"])]


def _as_list(keys: SecretKeys) -> list[str]:
    return [keys] if isinstance(keys, str) else list(keys)


def derive(secret_key: str, purpose: str) -> bytes:
    """32 bytes for one purpose, e.g. "cursors" or "secrets-at-rest"."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"citizencenter " + purpose.encode()).derive(secret_key.encode())


def for_purpose(config: Mapping, purpose: str) -> bytes:
    """The current key for a purpose (signing, hashing)."""
    return derive(config["SECRET_KEY"], purpose)


def verifying_keys(config: Mapping, purpose: str) -> list[bytes]:
    """Keys for a purpose that still verify, the current one first."""
    return [derive(k, purpose) for k in secret_keys(config)]


def serializer_keys(config: Mapping, purpose: str, legacy: bool = False) -> list[bytes]:
    """Keys for an itsdangerous serializer, which signs with the last and verifies with all.

    `legacy` also accepts what the raw SECRET_KEY signed before keys were derived.
    """
    old = [k.encode() for k in reversed(secret_keys(config))] if legacy else []
    return old + list(reversed(verifying_keys(config, purpose)))


def box(keys: SecretKeys, legacy_label: bytes | None = None,
        purpose: str = "secrets-at-rest") -> MultiFernet:
    """Encrypt under the current key's key for `purpose`; decrypt under any key.

    `keys` is the current SECRET_KEY, or it and its fallbacks. `legacy_label` names the
    SHA-256 derivation used before HKDF, so secrets stored then still open until
    `citizencenter rotate-keys` re-encrypts them.
    """
    keys = _as_list(keys)
    fernets = [Fernet(base64.urlsafe_b64encode(derive(k, purpose))) for k in keys]
    if legacy_label is not None:
        fernets += [Fernet(base64.urlsafe_b64encode(
            hashlib.sha256(legacy_label + b"\0" + k.encode()).digest())) for k in keys]
    return MultiFernet(fernets)


class SecretBox:
    """Text kept encrypted in a column: sealed under the current key, opened under any.

    Opening a value no key fits raises cryptography's InvalidToken.
    """

    def __init__(self, keys: SecretKeys, legacy_label: bytes | None = None,
                 purpose: str = "secrets-at-rest"):
        self._fernet = box(keys, legacy_label, purpose)

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()

    def reseal_column(self, session, column) -> int:
        """Seal every value of an ORM `column` under the current key; returns how many.

        The caller commits.
        """
        rows = session.scalars(select(column.class_).where(column.is_not(None))).all()
        for row in rows:
            setattr(row, column.key, self._fernet.rotate(
                getattr(row, column.key).encode()).decode())
        return len(rows)


def embedded_secret_key(instance: Path) -> str:
    """Read the embedded run's key from `instance/secret_key`, making it on first start."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        # Written whole under another name, then linked: a process starting at the same
        # moment reads either no file or the complete key, and only one key wins.
        temporary = instance / f".secret_key.{os.getpid()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()
