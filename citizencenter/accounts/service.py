"""Users, API tokens and who may do what."""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, undefer

from citizencenter import reference_cache
from citizencenter.accounts.models import ApiToken, Department, Role, User
from citizencenter.audit import service as audit
from citizencenter.db import text_matches, utcnow
from citizencenter.errors import AppError, Forbidden, InvalidInput, NotFound, Unauthorized
from citizencenter.pagination import Page, Paginator

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.GUIDE: frozenset({"cases:read", "cases:write", "directory:read"}),
    Role.DEPARTMENT: frozenset({"cases:read", "cases:write", "directory:read"}),
    Role.SUPERVISOR: frozenset({"cases:read", "cases:write", "directory:read", "reports:read",
                                "users:read", "routing:read", "routing:write", "sla:write",
                                "contacts:protect"}),
    Role.ADMIN: frozenset({"*"}),
}
# Scopes an integration token may carry.
INTEGRATION_SCOPES = frozenset({
    "cases:read", "cases:write", "directory:read", "reports:read", "users:read",
    "calls:write", "mail:ingest", "social:write", "cases:protected",
    "open311:submit",  # an Open311 app's api_key: POST requests, nothing else
})
# Sees the cases of contacts with a protected identity. No role holds it: an admin grants
# it to named users (`set_protected_access`) or names it on a token; "*" does not imply it.
PROTECTED_SCOPE = "cases:protected"
TOKEN_PREFIX = "cc_"


@dataclass(frozen=True)
class Principal:
    """The caller of a request or the actor of a task."""

    actor: str
    scopes: frozenset[str]
    role: Role | None = None
    user_id: int | None = None
    department_id: int | None = None
    token_id: int | None = None
    extra: dict = field(default_factory=dict)

    def has_scope(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.has_scope(scope):
            raise Forbidden(f"This token lacks the scope {scope!r}.")

    @property
    def is_department_staff(self) -> bool:
        return self.role == Role.DEPARTMENT

    @property
    def sees_protected(self) -> bool:
        """Granted the protected permission, or the system itself: the tasks and the
        channels' intake, which act in code without a user or a token."""
        return PROTECTED_SCOPE in self.scopes or (self.user_id is None and self.token_id is None)


SYSTEM = Principal(actor="system", scopes=frozenset({"*"}))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvalidAccount(AppError):
    status, title, slug = 422, "Invalid account data", "invalid-account"


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidAccount(f"Unknown role {value!r}; one of {', '.join(Role)}.") from None


def create_user(session: Session, email: str, name: str, role: str,
                department_slug: str | None = None, *, actor: str = "system") -> User:
    """Create a user; department staff must belong to a department."""
    role = _role(role)
    department = None
    if department_slug:
        department = session.scalar(select(Department).where(Department.slug == department_slug))
        if department is None:
            raise InvalidAccount(f"Unknown department {department_slug!r}.")
    if role == Role.DEPARTMENT and department is None:
        raise InvalidAccount("Department staff need a department.")
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)):
        raise InvalidAccount("A user with this e-mail exists.")
    user = User(email=email, name=name, role=role, department=department)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", "user", user.id,  # no name, no e-mail
                 new={"role": role, "department": department_slug})
    session.commit()
    return user


def create_token(session: Session, name: str, *, role: str | None = None,
                 scopes: list[str] | None = None, user_email: str | None = None,
                 actor: str = "system") -> tuple[ApiToken, str]:
    """Issue a token for a user (their role), a role, or an integration (scopes)."""
    user = None
    if user_email:
        user = session.scalar(select(User).where(User.email == user_email.strip().lower()))
        if user is None:
            raise InvalidAccount(f"No user with e-mail {user_email!r}.")
    if role is not None:
        try:
            role = Role(role)
        except ValueError:
            raise InvalidAccount(f"Unknown role {role!r}; one of {', '.join(Role)}.") from None
    scopes = sorted(set(scopes or []))
    unknown = set(scopes) - INTEGRATION_SCOPES
    if unknown:
        raise InvalidAccount(f"Unknown scopes: {', '.join(sorted(unknown))}.")
    if not (user or role or scopes):
        raise InvalidAccount("A token needs a user, a role or scopes.")
    if user is not None and role is not None and role != user.role:
        raise InvalidAccount(f"The user is {user.role}; a token acts with its user's role.")
    if (user.role if user else role) == Role.DEPARTMENT and (user is None or user.department_id
                                                              is None):
        # Department staff see their department's cases: without one there is nothing to see.
        raise InvalidAccount("A department token must act as a department staff user "
                             "(give the user's e-mail), not as the role alone.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, prefix=secret[:10], token_hash=hash_token(secret),
                     user=user, role=role or (user.role if user else None), scopes=scopes)
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.created", "token", token.id,  # never the secret
                 new={"name": name, "role": token.role, "scopes": scopes,
                      "user_id": user.id if user else None})
    session.commit()
    return token, secret


def revoke_tokens_named(session: Session, name: str, *, actor: str = "system") -> None:
    """Revoke every live token of this name."""
    for token in session.scalars(select(ApiToken).where(ApiToken.name == name,
                                                        ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()
        audit.record(session, actor, "token.revoked", "token", token.id, old={"name": name})
    session.commit()


def set_protected_access(session: Session, actor: str, user_id: int, granted: bool) -> User:
    """Grant or withdraw a user's protected permission (admins); audited."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.protected_access != granted:
        user.protected_access = granted
        audit.record(session, actor, "user.protected_access_" + ("granted" if granted
                                                                 else "withdrawn"),
                     "user", user.id)
    session.commit()
    return user


@dataclass(frozen=True)
class _Grant:
    """What a valid token resolves to, as the process keeps it (never the secret)."""

    principal: Principal
    expires_at: datetime | None


def authenticate(session: Session, secret: str | None) -> Principal:
    """Resolve a bearer token to its principal or raise Unauthorized.

    The resolution is kept per process while no user, token or department changes
    (`reference_cache`); a token's expiry is checked on every request all the same.
    """
    if not secret:
        raise Unauthorized("An Authorization: Bearer token is required.")
    digest = hash_token(secret)
    grant = reference_cache.cached(session, ("token", digest), lambda: _grant(session, digest))
    if grant is None or (grant.expires_at is not None and grant.expires_at <= utcnow()):
        raise Unauthorized("The token is not valid.")
    return grant.principal


def _grant(session: Session, digest: str) -> _Grant | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if (token is None or token.revoked_at is not None
            or (token.user is not None and not token.user.active)):
        return None
    user = token.user
    role = user.role if user else token.role
    if role == Role.DEPARTMENT and (user is None or user.department_id is None):
        # Issued before create_token refused such tokens: it can see no department.
        raise Unauthorized("The token is not valid: department staff need a department.")
    scopes = set(token.scopes or [])
    if role:
        scopes |= ROLE_SCOPES[Role(role)]
    if user is not None and user.protected_access:
        scopes.add(PROTECTED_SCOPE)
    return _Grant(Principal(
        actor=f"user:{user.id}" if user else f"token:{token.id}",
        scopes=frozenset(scopes),
        role=Role(role) if role else None,
        user_id=user.id if user else None,
        department_id=user.department_id if user else None,
        token_id=token.id,
    ), token.expires_at)


MAX_USER_SEARCH = 200


def list_users(session: Session, paginator: Paginator, *, q: str | None = None,
               role: Role | None = None, department: str | None = None,
               active: bool | None = None, limit: int | None = None,
               cursor: str | None = None) -> Page:
    """Users by name, a page at a time: those whose name or e-mail address holds `q`, of a
    role, of a department (its slug), active or not. A municipality's department staff
    run into the thousands; nobody scrolls through them."""
    query = select(User)
    filters = {"view": "users"}
    if q and q.strip():
        q = q.strip()
        if len(q) > MAX_USER_SEARCH:
            raise InvalidInput("q", f"At most {MAX_USER_SEARCH} characters.")
        query = query.where(or_(text_matches(User.name, q), text_matches(User.email, q)))
        filters["q"] = q.lower()
    if role is not None:
        query = query.where(User.role == role)
        filters["role"] = role.value
    if department:
        department_id = session.scalar(select(Department.id)
                                       .where(Department.slug == department))
        if department_id is None:
            raise InvalidInput("department", f"Unknown department {department!r}.")
        query = query.where(User.department_id == department_id)
        filters["department"] = department
    if active is not None:
        query = query.where(User.active.is_(active))
        filters["active"] = active
    return paginator.page(session, query, (User.name, User.id),
                          to_key=lambda u: [u.name, u.id],
                          from_key=lambda k: (str(k[0]), int(k[1])), filters=filters,
                          limit=limit, cursor=cursor, descending=False)


# Run in update_user's transaction after a change: packages above accounts subscribe at
# app start (routing signs off a user who can no longer take work).
_user_changed: list[Callable[[Session, "Principal", User], None]] = []


def on_user_changed(hook: Callable[[Session, "Principal", User], None]) -> None:
    if hook not in _user_changed:
        _user_changed.append(hook)


def update_user(session: Session, actor: Principal, user_id: int, changes: dict) -> User:
    """Change a user's role, department or whether they are active (admins); audited.

    A deactivated user is signed out of the pages and their tokens stop working."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user_id == actor.user_id and changes.get("active") is False:
        raise InvalidAccount("You cannot deactivate yourself.")
    before = {"role": user.role.value, "department": user.department.slug if user.department
              else None, "active": user.active}
    role = _role(changes["role"]) if "role" in changes else user.role
    department = user.department
    if "department" in changes:
        slug = changes["department"]
        department = None
        if slug:
            department = session.scalar(select(Department).where(Department.slug == slug))
            if department is None:
                raise InvalidAccount(f"Unknown department {slug!r}.")
    if role == Role.DEPARTMENT and department is None:
        raise InvalidAccount("Department staff need a department.")
    active = changes.get("active", user.active)
    if user.role == Role.ADMIN and user.active and (role != Role.ADMIN or not active) \
            and not session.scalar(select(func.count()).select_from(User).where(
                User.role == Role.ADMIN, User.active, User.id != user.id)):
        raise InvalidAccount("The last active admin stays one: make another user admin first.")
    user.role, user.department, user.active = role, department, active
    after = {"role": role.value, "department": department.slug if department else None,
             "active": user.active}
    if after != before:
        audit.record(session, actor.actor, "user.changed", "user", user.id,
                     old={k: v for k, v in before.items() if after[k] != v},
                     new={k: v for k, v in after.items() if before[k] != v})
        for hook in _user_changed:
            hook(session, actor, user)
    session.commit()
    return user


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, live first, newest first; never a secret (none is stored)."""
    return list(session.scalars(select(ApiToken).options(undefer(ApiToken.last_used_at))
                                .order_by(ApiToken.revoked_at.is_not(None),
                                          ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    """Revoke one token (admins); revoking it again changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor.actor, "token.revoked", "token", token.id,
                     old={"name": token.name})
    session.commit()
    return token
