"""Bearer-token authentication for views."""

from functools import wraps

from flask import g, request

from citizencenter import db
from citizencenter.accounts import service as accounts_service
from citizencenter.accounts.service import Principal


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_scope(scope: str):
    """Authenticate the request and require `scope`; the principal lands in `g.principal`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = accounts_service.authenticate(db.session, bearer_token())
            principal.require(scope)
            g.principal = principal
            return view(*args, **kwargs)

        wrapper._required_scope = scope
        return wrapper

    return decorator


def current_principal() -> Principal:
    return g.principal
