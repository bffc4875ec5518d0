"""Who may change service-level settings."""

from citizencenter.accounts.models import Role
from citizencenter.accounts.service import Principal
from citizencenter.errors import Forbidden

MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def require_manager(actor: Principal) -> None:
    """Calendars and policies are changed by supervisors and admins only."""
    if actor.role not in MANAGERS:
        raise Forbidden("Only supervisors and admins change calendars and policies.")
