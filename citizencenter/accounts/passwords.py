"""Passwords for signing in to the pages: argon2id hashes, checking, and who signed in."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter.accounts.models import Role, User
from citizencenter.accounts.service import (
    PROTECTED_SCOPE,
    ROLE_SCOPES,
    InvalidAccount,
    Principal,
)
from citizencenter.audit import service as audit
from citizencenter.errors import AppError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 hashes anything; a megabyte "password" is a denial of service
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Checked when the e-mail is unknown, so that case takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class SignInFailed(AppError):
    """Unknown e-mail, wrong password, no password set or inactive: one answer for all."""

    status, title, slug = 401, "Sign-in failed", "sign-in-failed"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(session: Session, email: str, password: str, *, actor: str = "system"
                 ) -> User:
    """Give a user a new password (stored as an argon2id hash)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidAccount(f"A password has {MIN_LENGTH} to {MAX_LENGTH} characters.")
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise InvalidAccount("No user with this e-mail.")
    user.password_hash = hash_password(password)
    audit.record(session, actor, "user.password_set", "user", user.id)  # never the hash
    session.commit()
    return user


def principal_for_user(user: User) -> Principal:
    """The principal a signed-in user acts as: the same one their user token gives the API."""
    scopes = ROLE_SCOPES[Role(user.role)] | ({PROTECTED_SCOPE} if user.protected_access
                                               else set())
    return Principal(actor=f"user:{user.id}", scopes=frozenset(scopes),
                     role=Role(user.role), user_id=user.id, department_id=user.department_id)


def can_sign_in(user: User | None) -> bool:
    # Department staff without a department would see nothing (accounts.service refuses
    # their tokens for the same reason).
    return (user is not None and user.active and user.password_hash is not None
            and not (user.role == Role.DEPARTMENT and user.department_id is None))


def check_credentials(session: Session, email: str, password: str) -> User:
    """The user with this e-mail and password, or SignInFailed (the same for every cause)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    hashed = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(hashed, password[:MAX_LENGTH])
        verified = hashed is not _DUMMY_HASH
    except (VerificationError, InvalidHashError):
        verified = False
    if not verified or not can_sign_in(user):
        raise SignInFailed("Wrong e-mail or password.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.commit()
    return user


def signed_in_user(session: Session, user_id: int) -> User | None:
    """The user of a session, while they may still sign in (deactivated: signed out)."""
    user = session.get(User, user_id)
    return user if can_sign_in(user) else None
