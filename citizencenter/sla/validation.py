"""Input checks shared by the SLA schemas."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma


def check_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ma.ValidationError(f"Unknown time zone {value!r}.") from None
