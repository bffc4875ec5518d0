"""Days on which Swedish public offices are closed, and the eves they may close early on.

Everything comes from the maintained ``holidays`` package so that changes in law reach
us through an upgrade: the public holidays, the eves offices close on by custom (the
package's "de facto" category: midsommarafton, julafton, nyårsafton) and påskafton,
which the package files under "optional" with the half days before trettondagen,
första maj and alla helgons dag. Those three are the eves a calendar may shorten.
"""

from datetime import date
from functools import lru_cache

import holidays

# The package's own Swedish names (its default language), matched by their start
# because the half days carry "(från kl. 14.00)".
_CLOSED_EVES = ("Påskafton",)
SHORTENED_EVES = {
    "trettondagsafton": "Trettondagsafton",
    "valborgsmassoafton": "Valborgsmässoafton",
    "allhelgonaafton": "Allahelgonsafton",
}


def _sweden(year: int, *categories: str) -> holidays.HolidayBase:
    # Older releases of the package list every Sunday unless told not to; the weekly
    # opening hours already decide about Sundays.
    return holidays.Sweden(years=year, categories=categories, language="sv",
                           include_sundays=False)


def _named(days: holidays.HolidayBase, name: str, year: int) -> list[date]:
    return [day for day in days.get_named(name, lookup="istartswith") if day.year == year]


@lru_cache(maxsize=256)
def closed_days(year: int) -> frozenset[date]:
    """Return every public holiday and closing eve of ``year`` (cached per year)."""
    closed = {day for day in _sweden(year, "public", "de_facto") if day.year == year}
    optional = _sweden(year, "optional")
    for name in _CLOSED_EVES:
        closed.update(_named(optional, name, year))
    return frozenset(closed)


@lru_cache(maxsize=256)
def eves(year: int) -> dict[date, str]:
    """Return the dates of the eves a calendar may shorten, by date (cached per year)."""
    optional = _sweden(year, "optional")
    return {day: eve for eve, name in SHORTENED_EVES.items()
            for day in _named(optional, name, year)}


def is_closed_day(day: date) -> bool:
    """Tell whether Swedish offices are closed on ``day`` for a holiday or eve."""
    return day in closed_days(day.year)


def eve_on(day: date) -> str | None:
    """Name the eve ``day`` is ("valborgsmassoafton"), None on other days."""
    return eves(day.year).get(day)


@lru_cache(maxsize=64)
def named_days(year: int) -> dict[date, str]:
    """Name every closed day and shortenable eve of ``year`` (the package's Swedish names)."""
    names: dict[date, str] = {}
    for category in ("public", "de_facto", "optional"):
        for day, name in _sweden(year, category).items():
            if day.year == year and (day in closed_days(year) or day in eves(year)):
                names.setdefault(day, name.split(" (")[0])
    return names
