"""Bearer-token authentication for views."""

from functools import wraps

from flask import current_app, g, request

from citizencenter import db
from citizencenter.accounts import service as accounts_service
from citizencenter.accounts import token_uses
from citizencenter.accounts.service import Principal
from citizencenter.errors import Forbidden


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_scope(scope: str):
    """Authenticate the request and require `scope`; the principal lands in `g.principal`."""
    return require_any_scope(scope)


def require_any_scope(*scopes: str):
    """Like require_scope, for operations open to more than one kind of caller."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = accounts_service.authenticate(db.session, bearer_token())
            if principal.token_id is not None:
                token_uses.note(current_app.config["REDIS_URL"], principal.token_id)
            if not any(principal.has_scope(scope) for scope in scopes):
                raise Forbidden(f"This token lacks the scope {scopes[0]!r}." if len(scopes) == 1
                                else f"This token lacks one of the scopes {', '.join(scopes)}.")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper._required_scope = scopes[0] if len(scopes) == 1 else None
        wrapper._required_scopes = scopes
        return wrapper

    return decorator


def current_principal() -> Principal:
    return g.principal
