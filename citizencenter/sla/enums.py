"""The vocabulary of service-level agreements: metrics, target units, timer states."""

from enum import StrEnum


class Metric(StrEnum):
    FIRST_RESPONSE = "first_response"  # first human reply to the citizen
    NEXT_RESPONSE = "next_response"  # reply to the citizen's next message
    RESOLUTION = "resolution"  # case resolved; a reopened case starts a new one
    CALLBACK = "callback"  # ring upp: the citizen called back
    DEPARTMENT_RESOLUTION = "department_resolution"  # forwarded case resolved


class TargetUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_DAYS = "working_days"  # same clock time N working days later


class TimerStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    FULFILLED = "fulfilled"
    STOPPED = "stopped"  # no longer needed, e.g. the case was resolved without a reply


class LedgerEvent(StrEnum):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    WARNED = "warned"
    BREACHED = "breached"
    FULFILLED = "fulfilled"
    STOPPED = "stopped"


class NotificationKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OPEN_STATUSES = frozenset({TimerStatus.RUNNING, TimerStatus.PAUSED})
