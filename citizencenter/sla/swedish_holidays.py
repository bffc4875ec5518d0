"""Days on which Swedish public offices are closed.

The public holidays come from the maintained ``holidays`` package so that changes in
law reach us through an upgrade. The eves that offices close on by custom (påskafton,
midsommarafton, julafton, nyårsafton) are added here from their own rules, because
the package files some of them under other categories or not at all.
"""

from datetime import date, timedelta
from functools import lru_cache

import holidays


def easter_sunday(year: int) -> date:
    """Return påskdagen of ``year`` (Gregorian computus), which påskafton hangs on."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century + 8) // 25
    lunar = (century - moon_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - lunar + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday_shift = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    correction = (golden + 11 * epact + 22 * weekday_shift) // 451
    month, day = divmod(epact + weekday_shift - 7 * correction + 114, 31)
    return date(year, month, day + 1)


def midsummer_eve(year: int) -> date:
    """Return midsommarafton: the Friday between 19 and 25 June."""
    first = date(year, 6, 19)
    return first + timedelta(days=(4 - first.weekday()) % 7)


def closing_eves(year: int) -> frozenset[date]:
    """Return the eves that are not public holidays but on which offices close."""
    return frozenset({
        easter_sunday(year) - timedelta(days=1),
        midsummer_eve(year),
        date(year, 12, 24),
        date(year, 12, 31),
    })


@lru_cache(maxsize=256)
def closed_days(year: int) -> frozenset[date]:
    """Return every public holiday and closing eve of ``year`` (cached per year)."""
    # Older releases of the package list every Sunday unless told not to; the weekly
    # opening hours already decide about Sundays.
    public = holidays.Sweden(years=year, include_sundays=False)
    return frozenset(day for day in public if day.year == year) | closing_eves(year)


def is_closed_day(day: date) -> bool:
    """Tell whether Swedish offices are closed on ``day`` for a holiday or eve."""
    return day in closed_days(day.year)
