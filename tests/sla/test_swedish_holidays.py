"""Swedish closing days: public holidays from the package plus the eves offices close on."""

from datetime import date, timedelta

import holidays
import pytest

from citizencenter.sla.calendars.swedish_holidays import closed_days, eve_on, eves, is_closed_day

CLOSED_2026 = {
    date(2026, 1, 1): "nyårsdagen",
    date(2026, 1, 6): "trettondedag jul",
    date(2026, 4, 3): "långfredagen",
    date(2026, 4, 4): "påskafton",
    date(2026, 4, 5): "påskdagen",
    date(2026, 4, 6): "annandag påsk",
    date(2026, 5, 1): "första maj",
    date(2026, 5, 14): "Kristi himmelsfärdsdag",
    date(2026, 5, 24): "pingstdagen",
    date(2026, 6, 6): "nationaldagen",
    date(2026, 6, 19): "midsommarafton",
    date(2026, 6, 20): "midsommardagen",
    date(2026, 10, 31): "alla helgons dag",
    date(2026, 12, 24): "julafton",
    date(2026, 12, 25): "juldagen",
    date(2026, 12, 26): "annandag jul",
    date(2026, 12, 31): "nyårsafton",
}


def test_closed_days_2026_are_exactly_the_holidays_and_eves():
    assert closed_days(2026) == frozenset(CLOSED_2026)


@pytest.mark.parametrize("day", sorted(CLOSED_2026), ids=lambda day: CLOSED_2026[day])
def test_each_closing_day_is_closed(day):
    assert is_closed_day(day)


def test_ordinary_sundays_are_not_listed_as_holidays():
    sundays = [date(2026, 1, 4) + timedelta(weeks=n) for n in range(52)]
    listed = {day for day in sundays if is_closed_day(day)}
    assert listed == {date(2026, 4, 5), date(2026, 5, 24)}  # påskdagen, pingstdagen


@pytest.mark.parametrize("year", range(2024, 2032))
def test_every_public_holiday_of_the_package_is_closed(year):
    public = holidays.Sweden(years=year, include_sundays=False)
    assert set(public) <= closed_days(year)


@pytest.mark.parametrize(("year", "easter"), [
    (2024, date(2024, 3, 31)),
    (2025, date(2025, 4, 20)),
    (2026, date(2026, 4, 5)),
    (2027, date(2027, 3, 28)),
    (2038, date(2038, 4, 25)),
    (2099, date(2099, 4, 12)),
])
def test_easter_and_its_eve_are_closed(year, easter):
    assert {easter - timedelta(days=1), easter, easter + timedelta(days=1)} <= closed_days(year)


@pytest.mark.parametrize(("year", "expected"), [
    (2024, date(2024, 6, 21)),
    (2025, date(2025, 6, 20)),
    (2026, date(2026, 6, 19)),
    (2027, date(2027, 6, 25)),
])
def test_midsummer_eve_is_the_friday_between_19_and_25_june(year, expected):
    assert expected in closed_days(year)
    assert expected.weekday() == 4
    assert not is_closed_day(expected - timedelta(days=7))


@pytest.mark.parametrize("year", range(2000, 2100))
def test_every_year_has_one_påskafton_and_the_three_shortened_eves(year):
    saturdays_in_spring = {d for d in closed_days(year) if d.month in (3, 4) and d.weekday() == 5}
    assert len(saturdays_in_spring) == 1  # påskafton; the package found it by name
    assert sorted(eves(year).values()) == [
        "allhelgonaafton", "trettondagsafton", "valborgsmassoafton"]


def test_the_shortened_eves_of_2026():
    assert eves(2026) == {date(2026, 1, 5): "trettondagsafton",
                          date(2026, 4, 30): "valborgsmassoafton",
                          date(2026, 10, 30): "allhelgonaafton"}  # the Friday before
    assert eve_on(date(2027, 11, 5)) == "allhelgonaafton"
    assert eve_on(date(2026, 4, 29)) is None
    assert not set(eves(2026)) & closed_days(2026)


def test_easter_eve_follows_easter_into_march():
    assert is_closed_day(date(2027, 3, 27))  # påskafton 2027
    assert not is_closed_day(date(2027, 3, 20))
