from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SOCIAL = "social"
    WEBFORM = "webform"
    WALK_IN = "walk_in"


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_ON_CITIZEN = "waiting_on_citizen"
    FORWARDED = "forwarded"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseKind(StrEnum):
    INQUIRY = "inquiry"
    CALLBACK = "callback"  # ring upp: the citizen expects us to call back


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


S = CaseStatus
# Reopening (resolved/closed -> open) happens when the citizen writes again or a guide reopens.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING_ON_CITIZEN, S.FORWARDED, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.WAITING_ON_CITIZEN, S.FORWARDED, S.RESOLVED}),
    S.WAITING_ON_CITIZEN: frozenset({S.OPEN, S.FORWARDED, S.RESOLVED}),
    S.FORWARDED: frozenset({S.OPEN, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.OPEN}),
    S.CLOSED: frozenset({S.OPEN}),
}
