"""Business calendars: opening hours, closures, clock changes, pauses and deadlines."""

import dataclasses
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from citizencenter.sla.calendars.calendar import (
    BusinessCalendar,
    always_open_calendar,
    office_hours_calendar,
)
from citizencenter.sla.calendars.opening_hours import OpeningInterval, opening_hours

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOUR = timedelta(hours=1)

OFFICE = office_hours_calendar()
LUNCH = BusinessCalendar.create(
    {**{weekday: ["08:00-12:00", "13:00-17:00"] for weekday in range(4)}, 4: ["08:00-15:00"]})
EVERY_DAY = BusinessCalendar.create({weekday: ["08:00-17:00"] for weekday in range(7)})
ALWAYS = always_open_calendar()


def local(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=STOCKHOLM)


# 2 March 2026 is a Monday.
MONDAY = date(2026, 3, 2)


def test_midsummer_example_one_working_day():
    # Thursday before midsommarafton; Friday is closed, so Monday at the same time.
    assert OFFICE.add_business_days(local(2026, 6, 18, 16, 30), 1) == local(2026, 6, 22, 16, 30)


def test_results_keep_the_time_zone_of_the_input():
    due = OFFICE.add_business_days(datetime(2026, 6, 18, 14, 30, tzinfo=UTC), 1)
    assert due == datetime(2026, 6, 22, 14, 30, tzinfo=UTC)
    assert due.tzinfo is UTC
    assert OFFICE.add_business_time(datetime(2026, 3, 2, 7, tzinfo=UTC), HOUR).tzinfo is UTC


@pytest.mark.parametrize("day", [
    date(2026, 4, 4),    # påskafton
    date(2026, 6, 19),   # midsommarafton
    date(2026, 12, 24),  # julafton
    date(2026, 12, 31),  # nyårsafton
    date(2026, 4, 3),    # långfredagen
    date(2026, 6, 6),    # nationaldagen
    date(2027, 1, 6),    # trettondedag jul
])
def test_holidays_and_eves_are_closed_even_for_a_seven_day_service(day):
    assert not EVERY_DAY.is_working_day(day)
    assert not EVERY_DAY.is_open(datetime.combine(day, time(12), STOCKHOLM))
    assert EVERY_DAY.hours_on(day) == ()


def test_ordinary_weekends_follow_the_weekly_hours():
    assert EVERY_DAY.is_open(local(2026, 4, 11, 12))  # Saturday
    assert EVERY_DAY.is_open(local(2026, 4, 12, 12))  # Sunday
    assert not OFFICE.is_open(local(2026, 4, 11, 12))


def test_holidays_can_be_left_open():
    shop = BusinessCalendar.create({d: ["08:00-17:00"] for d in range(7)}, swedish_holidays=False)
    assert shop.is_open(local(2026, 12, 24, 12))


def test_custom_closed_date():
    calendar = BusinessCalendar.create(
        {d: ["08:00-17:00"] for d in range(5)}, closed_dates=[date(2026, 3, 4)])
    assert not calendar.is_working_day(date(2026, 3, 4))
    assert calendar.add_business_time(local(2026, 3, 3, 16), 2 * HOUR) == local(2026, 3, 5, 9)


def test_shortened_day():
    calendar = BusinessCalendar.create(
        {d: ["08:00-17:00"] for d in range(5)},
        shortened_days={date(2026, 4, 30): ["08:00-13:00"]})  # valborgsmässoafton
    assert calendar.hours_on(date(2026, 4, 30)) == opening_hours("08:00-13:00")
    assert calendar.is_open(local(2026, 4, 30, 12, 59))
    assert not calendar.is_open(local(2026, 4, 30, 13))
    assert calendar.business_time_between(local(2026, 4, 30), local(2026, 5, 1)) == 5 * HOUR
    # 30 minutes left on the shortened day; 1 May and the weekend are closed.
    assert calendar.add_business_time(local(2026, 4, 30, 12, 30), HOUR) == local(2026, 5, 4, 8, 30)


def test_eves_are_shortened_every_year_when_the_calendar_is_open():
    calendar = BusinessCalendar.create(
        {d: ["08:00-17:00"] for d in range(5)},
        shortened_days={"valborgsmassoafton": ["08:00-14:00"],
                        "allhelgonaafton": ["08:00-14:00"],
                        date(2026, 1, 5): ["08:00-10:00"]})  # this year's trettondagsafton
    assert calendar.hours_on(date(2026, 4, 30)) == opening_hours("08:00-14:00")  # Thursday
    assert calendar.hours_on(date(2026, 10, 30)) == opening_hours("08:00-14:00")  # Friday
    assert calendar.hours_on(date(2027, 4, 30)) == opening_hours("08:00-14:00")
    assert calendar.hours_on(date(2026, 1, 5)) == opening_hours("08:00-10:00")
    assert calendar.hours_on(date(2027, 1, 5)) == opening_hours("08:00-17:00")  # not listed
    assert calendar.hours_on(date(2028, 4, 30)) == ()  # a Sunday stays closed
    assert calendar.hours_on(date(2026, 4, 29)) == opening_hours("08:00-17:00")
    assert calendar.add_business_time(local(2026, 4, 30, 13), 2 * HOUR) == local(2026, 5, 4, 9)
    with pytest.raises(ValueError, match="not an eve"):
        BusinessCalendar.create({0: ["08:00-17:00"]}, shortened_days={"julafton": []})


def test_shortened_day_can_open_a_holiday():
    calendar = BusinessCalendar.create(
        {d: ["08:00-17:00"] for d in range(5)},
        shortened_days={date(2026, 12, 24): ["09:00-12:00"]})
    assert calendar.is_open(local(2026, 12, 24, 10))
    assert calendar.business_time_between(local(2026, 12, 24), local(2026, 12, 25)) == 3 * HOUR


def test_lunch_closure():
    assert LUNCH.add_business_time(local(2026, 3, 2, 11, 30), HOUR) == local(2026, 3, 2, 13, 30)
    assert LUNCH.is_open(local(2026, 3, 2, 11, 59))
    assert not LUNCH.is_open(local(2026, 3, 2, 12))
    assert not LUNCH.is_open(local(2026, 3, 2, 12, 30))
    assert LUNCH.is_open(local(2026, 3, 2, 13))
    assert LUNCH.next_opening(local(2026, 3, 2, 12, 15)) == local(2026, 3, 2, 13)
    assert LUNCH.business_time_between(local(2026, 3, 2, 11), local(2026, 3, 2, 14)) == 2 * HOUR


def test_deadline_on_a_closing_time_is_that_closing_time():
    half_hour = timedelta(minutes=30)
    assert LUNCH.add_business_time(local(2026, 3, 2, 11, 30), half_hour) == local(2026, 3, 2, 12)


def test_friday_hours_differ():
    # Friday closes at 15:00, so the hour runs on into Monday.
    assert LUNCH.add_business_time(local(2026, 3, 6, 14, 30), HOUR) == local(2026, 3, 9, 8, 30)
    week = LUNCH.business_time_between(local(2026, 3, 2), local(2026, 3, 9))
    assert week == 4 * 8 * HOUR + 7 * HOUR


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
def test_office_hours_on_clock_change_days_are_nine_hours(day):
    midnight = datetime.combine(day, time(), STOCKHOLM)
    assert EVERY_DAY.business_time_between(midnight, midnight + timedelta(days=1)) == 9 * HOUR
    opening = datetime.combine(day, time(8), STOCKHOLM)
    assert EVERY_DAY.add_business_time(opening, 9 * HOUR) == datetime.combine(
        day, time(17), STOCKHOLM)


def test_always_open_counts_real_time_across_the_clock_changes():
    autumn = ALWAYS.business_time_between(local(2026, 10, 25), local(2026, 10, 26))
    spring = ALWAYS.business_time_between(local(2026, 3, 29), local(2026, 3, 30))
    assert autumn == 25 * HOUR
    assert spring == 23 * HOUR
    due = ALWAYS.add_business_time(local(2026, 10, 24, 12), 24 * HOUR)
    assert due == local(2026, 10, 25, 11)
    assert (due.hour, due.utcoffset()) == (11, HOUR)


def test_hours_inside_the_clock_change_follow_the_wall_clock():
    night = BusinessCalendar.create({d: ["01:00-04:00"] for d in range(7)})
    # The wall clock skips 02:00-03:00 in spring and shows it twice in autumn.
    assert night.business_time_between(local(2026, 3, 29), local(2026, 3, 30)) == 2 * HOUR
    assert night.business_time_between(local(2026, 10, 25), local(2026, 10, 26)) == 4 * HOUR


def test_working_days_across_the_spring_change_keep_the_clock_time():
    due = EVERY_DAY.add_business_days(local(2026, 3, 28, 10), 1)
    assert due == local(2026, 3, 29, 10)
    assert due - local(2026, 3, 28, 10) != 23 * HOUR  # same-zone subtraction is wall time
    assert due.astimezone(UTC) - local(2026, 3, 28, 10).astimezone(UTC) == 23 * HOUR


@pytest.mark.parametrize(("start", "due"), [
    (local(2026, 3, 6, 18), local(2026, 3, 9, 9)),           # Friday evening
    (local(2026, 3, 7, 10), local(2026, 3, 9, 9)),           # Saturday
    (local(2026, 3, 2, 6), local(2026, 3, 2, 9)),            # before opening
    (local(2026, 12, 23, 16, 30), local(2026, 12, 28, 8, 30)),  # into Christmas
])
def test_start_outside_hours_counts_from_the_next_opening(start, due):
    assert OFFICE.add_business_time(start, HOUR) == due


def test_next_opening():
    assert OFFICE.next_opening(local(2026, 3, 7, 10)) == local(2026, 3, 9, 8)
    assert OFFICE.next_opening(local(2026, 3, 9, 10, 15)) == local(2026, 3, 9, 10, 15)
    assert OFFICE.next_opening(local(2026, 12, 23, 17)) == local(2026, 12, 28, 8)


def test_business_time_between():
    assert OFFICE.business_time_between(local(2026, 3, 7, 10), local(2026, 3, 9, 10)) == 2 * HOUR
    assert OFFICE.business_time_between(local(2026, 3, 9, 10), local(2026, 3, 7, 10)) == HOUR * 0
    assert OFFICE.business_time_between(local(2026, 3, 9, 10), local(2026, 3, 9, 10)) == HOUR * 0
    year = OFFICE.business_time_between(local(2026, 1, 1), local(2027, 1, 1))
    assert year == 251 * 9 * HOUR  # 251 working days in Sweden in 2026


def test_zero_duration_is_the_start_itself():
    assert OFFICE.add_business_time(local(2026, 3, 7, 10), HOUR * 0) == local(2026, 3, 7, 10)


@pytest.mark.parametrize(("start", "days", "due"), [
    (local(2026, 3, 7, 10), 1, local(2026, 3, 10, 8)),       # Saturday: from Monday 08:00
    (local(2026, 3, 6, 18), 1, local(2026, 3, 10, 8)),       # Friday after closing
    (local(2026, 6, 18, 17, 30), 1, local(2026, 6, 23, 8)),  # after closing before midsummer
    (local(2026, 3, 7, 10), 0, local(2026, 3, 9, 8)),
    (local(2026, 3, 3, 9, 15), 2, local(2026, 3, 5, 9, 15)),
])
def test_working_days_from_outside_hours(start, days, due):
    assert OFFICE.add_business_days(start, days) == due


@pytest.mark.parametrize(("days", "due"), [
    (1, local(2026, 12, 28, 10)),   # julafton, juldagen, annandag jul, weekend
    (2, local(2026, 12, 29, 10)),
    (3, local(2026, 12, 30, 10)),
    (4, local(2027, 1, 4, 10)),     # nyårsafton, nyårsdagen, weekend
    (5, local(2027, 1, 5, 10)),
    (6, local(2027, 1, 7, 10)),     # trettondedag jul
])
def test_working_days_over_christmas_and_new_year(days, due):
    assert OFFICE.add_business_days(local(2026, 12, 23, 10), days) == due


def test_working_days_from_christmas_eve_count_from_the_next_opening():
    assert OFFICE.add_business_days(local(2026, 12, 24, 12), 1) == local(2026, 12, 29, 8)


RECEIVED = local(2026, 3, 2, 9)  # Monday


def test_pause_pushes_the_deadline_back():
    assert OFFICE.add_business_time(RECEIVED, 8 * HOUR) == local(2026, 3, 2, 17)
    waiting = [(local(2026, 3, 2, 11), local(2026, 3, 3, 10))]
    # Open before the pause 2 h (Mon 09-11), after it the remaining 6 h (Tue 10-16).
    assert OFFICE.due_at_with_pauses(RECEIVED, 8 * HOUR, waiting) == local(2026, 3, 3, 16)
    elapsed = OFFICE.business_time_between_excluding(RECEIVED, local(2026, 3, 3, 16), waiting)
    assert elapsed == 8 * HOUR


def test_overlapping_and_unordered_pauses_count_once():
    pauses = [
        (local(2026, 3, 2, 13).astimezone(UTC), local(2026, 3, 3, 10).astimezone(UTC)),
        (local(2026, 3, 2, 11), local(2026, 3, 2, 14)),
        (local(2026, 3, 2, 12), local(2026, 3, 2, 12)),
    ]
    assert OFFICE.due_at_with_pauses(RECEIVED, 8 * HOUR, pauses) == local(2026, 3, 3, 16)


def test_pauses_outside_hours_or_after_the_deadline_change_nothing():
    pauses = [
        (local(2026, 3, 2, 18), local(2026, 3, 3, 7)),
        (local(2026, 3, 7, 9), local(2026, 3, 8, 17)),
        (local(2026, 3, 10, 9), local(2026, 3, 11, 9)),
    ]
    due = OFFICE.due_at_with_pauses(RECEIVED, 12 * HOUR, pauses)
    assert due == OFFICE.add_business_time(RECEIVED, 12 * HOUR) == local(2026, 3, 3, 12)


def test_pause_covering_the_start():
    pauses = [(local(2026, 3, 2, 8), local(2026, 3, 2, 10))]
    assert OFFICE.due_at_with_pauses(RECEIVED, HOUR, pauses) == local(2026, 3, 2, 11)
    assert OFFICE.business_time_between_excluding(
        RECEIVED, local(2026, 3, 2, 12), pauses) == 2 * HOUR


def test_always_open_is_real_elapsed_time():
    start = local(2026, 12, 24, 15, 45)
    assert ALWAYS.is_open(start)
    assert ALWAYS.next_opening(start) == start
    assert ALWAYS.add_business_time(start, 24 * HOUR) == start + 24 * HOUR
    assert ALWAYS.business_time_between(start, local(2027, 1, 3, 1)) == (
        local(2027, 1, 3, 1) - start)
    assert ALWAYS.add_business_days(start, 1) == local(2026, 12, 25, 15, 45)
    pause = [(local(2026, 12, 25, 0), local(2026, 12, 25, 6))]
    assert ALWAYS.due_at_with_pauses(start, 24 * HOUR, pause) == start + 30 * HOUR


@pytest.mark.parametrize("calendar", [OFFICE, LUNCH, EVERY_DAY, ALWAYS], ids=[
    "office", "lunch", "every-day", "always"])
def test_adding_and_measuring_agree(calendar):
    rng = random.Random(20261127)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(300):
        start = year_start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        duration = timedelta(minutes=rng.randrange(200 * 60))
        due = calendar.add_business_time(start, duration)
        assert calendar.business_time_between(start, due) == duration
        assert due >= start
        if duration:
            # Nothing earlier would do: a minute less of open time falls short.
            assert calendar.business_time_between(start, due - timedelta(minutes=1)) < duration


def test_same_instant_in_any_zone_gives_the_same_answer():
    start = local(2026, 6, 18, 16, 30)
    helsinki = start.astimezone(ZoneInfo("Europe/Helsinki"))
    assert OFFICE.add_business_time(helsinki, 3 * HOUR) == OFFICE.add_business_time(
        start, 3 * HOUR)
    assert OFFICE.add_business_days(helsinki, 1) == OFFICE.add_business_days(start, 1)


def test_calendars_are_immutable_values_with_a_version():
    calendar = office_hours_calendar(version="2027-01")
    assert calendar.version == "2027-01"
    assert office_hours_calendar() == office_hours_calendar()
    assert hash(office_hours_calendar()) == hash(office_hours_calendar())
    assert calendar != office_hours_calendar()
    with pytest.raises(dataclasses.FrozenInstanceError):
        calendar.version = "3"  # type: ignore[misc]
    assert ALWAYS.version == "always-open/1"
    assert BusinessCalendar.always_open().weekly_hours == ALWAYS.weekly_hours
    bumped = dataclasses.replace(OFFICE, version="2")
    assert bumped.version == "2"
    assert bumped.add_business_days(RECEIVED, 1) == OFFICE.add_business_days(RECEIVED, 1)


def test_opening_interval_parsing():
    assert OpeningInterval.of("08:00-12:00") == OpeningInterval(time(8), time(12))
    assert OpeningInterval.of(("13:00", time(17))) == OpeningInterval(time(13), time(17))
    whole_day = OpeningInterval.of("00:00-24:00")
    assert whole_day.end_offset == timedelta(days=1)
    assert str(whole_day) == "00:00-24:00"
    assert opening_hours("13:00-17:00", "08:00-12:00")[0].start == time(8)


NAIVE = datetime(2026, 3, 2, 9)


@pytest.mark.parametrize("call", [
    lambda: OFFICE.is_open(NAIVE),
    lambda: OFFICE.next_opening(NAIVE),
    lambda: OFFICE.add_business_time(NAIVE, HOUR),
    lambda: OFFICE.add_business_days(NAIVE, 1),
    lambda: OFFICE.business_time_between(NAIVE, RECEIVED),
    lambda: OFFICE.business_time_between(RECEIVED, NAIVE),
    lambda: OFFICE.business_time_between_excluding(RECEIVED, RECEIVED, [(NAIVE, RECEIVED)]),
    lambda: OFFICE.due_at_with_pauses(RECEIVED, HOUR, [(RECEIVED, NAIVE)]),
    lambda: OFFICE.is_open(date(2026, 3, 2)),
], ids=lambda _: "naive")
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware|must be a datetime"):
        call()


@pytest.mark.parametrize("call", [
    lambda: OFFICE.add_business_time(RECEIVED, -HOUR),
    lambda: OFFICE.due_at_with_pauses(RECEIVED, -HOUR, []),
    lambda: OFFICE.add_business_time(RECEIVED, 3600),
    lambda: OFFICE.add_business_days(RECEIVED, -1),
    lambda: OFFICE.add_business_days(RECEIVED, 1.5),
    lambda: OFFICE.due_at_with_pauses(RECEIVED, HOUR, [(local(2026, 3, 3), RECEIVED)]),
    lambda: OFFICE.due_at_with_pauses(RECEIVED, HOUR, [RECEIVED]),
    lambda: OpeningInterval(time(12), time(8)),
    lambda: OpeningInterval.of("8-12"),
    lambda: OpeningInterval.of("08:00"),
    lambda: OpeningInterval.of("08:00-25:00"),
    lambda: opening_hours("08:00-12:00", "11:00-17:00"),
    lambda: BusinessCalendar.create({7: ["08:00-17:00"]}),
    lambda: BusinessCalendar.create({}),
    lambda: BusinessCalendar.create({0: ["08:00-17:00"]}, timezone="Europe/Nowhere"),
    lambda: BusinessCalendar.create(
        {0: ["08:00-17:00"]}, closed_dates=[MONDAY], shortened_days={MONDAY: ["08:00-12:00"]}),
    lambda: BusinessCalendar(weekly_hours=((),) * 6),
])
def test_bad_input_is_refused(call):
    with pytest.raises(ValueError):
        call()
