from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, false, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from citizencenter.db import Base, str_enum, utcnow


class Role(StrEnum):
    GUIDE = "guide"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    DEPARTMENT = "department"


class Department(Base):
    """A förvaltning that receives forwarded cases."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    # Forwarded cases are announced here too: a Standard Webhooks signed POST.
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Granted by an admin: sees the cases of contacts with a protected identity.
    protected_access: Mapped[bool] = mapped_column(default=False, server_default=false())
    # argon2id (accounts/passwords.py); None: the user cannot sign in to the pages.
    password_hash: Mapped[str | None] = mapped_column(String(255))

    department: Mapped[Department | None] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the prefix identifies it in lists."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[Role | None] = mapped_column(str_enum(Role, 20))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship(lazy="joined")


class ApiTokenUse(Base):
    """When a token was last used, to the minute (accounts.token_uses). Apart from
    api_tokens: those rows are reference data, and a write there on every use would empty
    every process's cache of them."""

    __tablename__ = "api_token_uses"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"),
                                          primary_key=True)
    last_used_at: Mapped[datetime]


# Read only where tokens are listed (undefer); resolving a token never needs it.
ApiToken.last_used_at = column_property(
    select(ApiTokenUse.last_used_at).where(ApiTokenUse.token_id == ApiToken.id)
    .correlate_except(ApiTokenUse).scalar_subquery(), deferred=True)


class PasswordReset(Base):
    """A one-time link to choose a password: only the SHA-256 of its token is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The link's token is signed: an HMAC of the id and this nonce under SECRET_KEY, so the
    # worker that mails it can make it again from the id; only its hash is kept to find it.
    nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(64))
