"""Erlang C staffing, checked against the textbook formula computed independently here."""

import math
from datetime import datetime, time, timedelta

import pytest

from citizencenter.sla.staffing.erlang import (
    StaffingResult,
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    forecast,
    service_level,
    traffic_intensity,
)


def textbook_erlang_c(agents: int, traffic: float) -> float:
    """Erlang C straight from its definition with factorials."""
    queued = traffic ** agents / math.factorial(agents) * agents / (agents - traffic)
    served = sum(traffic ** k / math.factorial(k) for k in range(agents))
    return queued / (served + queued)


def textbook_erlang_c_large(agents: int, traffic: float) -> float:
    """The same definition in log space, for sizes where the factorials overflow."""
    log_terms = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    log_queued = (agents * math.log(traffic) - math.lgamma(agents + 1)
                  + math.log(agents / (agents - traffic)))
    peak = max(*log_terms, log_queued)
    served = sum(math.exp(term - peak) for term in log_terms)
    queued = math.exp(log_queued - peak)
    return queued / (served + queued)


# The classic worked example: 100 calls in 30 minutes, 180 s handling time.
CALLS, AHT, INTERVAL, TARGET = 100, 180, 1800, 20


def test_worked_example_traffic():
    assert traffic_intensity(CALLS, AHT, INTERVAL) == pytest.approx(10.0)


@pytest.mark.parametrize("agents", range(11, 20))
def test_erlang_c_matches_the_factorial_formula(agents):
    assert erlang_c(agents, 10.0) == pytest.approx(textbook_erlang_c(agents, 10.0), abs=1e-9)


@pytest.mark.parametrize(("agents", "traffic"), [(1, 0.5), (2, 1.9), (7, 3.3), (30, 24.7)])
def test_erlang_c_matches_the_factorial_formula_elsewhere(agents, traffic):
    assert erlang_c(agents, traffic) == pytest.approx(
        textbook_erlang_c(agents, traffic), abs=1e-9)


def test_worked_example_eleven_agents():
    wait_probability = textbook_erlang_c(11, 10.0)
    assert wait_probability == pytest.approx(0.6821, abs=5e-5)  # the published figure
    assert erlang_c(11, 10.0) == pytest.approx(wait_probability, abs=1e-9)

    asa = wait_probability * AHT / (11 - 10)
    assert asa == pytest.approx(122.8, abs=0.05)
    assert average_speed_of_answer(11, CALLS, AHT, INTERVAL) == pytest.approx(asa, rel=1e-9)

    level = 1 - wait_probability * math.exp(-(11 - 10) * TARGET / AHT)
    assert level == pytest.approx(0.3896, abs=5e-5)
    assert service_level(11, CALLS, AHT, INTERVAL, TARGET) == pytest.approx(level, rel=1e-9)


def test_worked_example_fourteen_agents():
    level = 1 - textbook_erlang_c(14, 10.0) * math.exp(-(14 - 10) * TARGET / AHT)
    # Published truncated as 88.83 %; the formula gives 0.888350...
    assert level == pytest.approx(0.88835, abs=5e-6)
    assert service_level(14, CALLS, AHT, INTERVAL, TARGET) == pytest.approx(level, rel=1e-9)


def test_agents_needed_for_eighty_percent_in_twenty_seconds():
    result = agents_needed(CALLS, AHT, INTERVAL, target_sl=0.8, target_answer_s=TARGET)
    assert isinstance(result, StaffingResult)
    assert result.agents == 14
    assert result.service_level == pytest.approx(0.88835, abs=5e-6)
    assert result.occupancy == pytest.approx(10 / 14)
    assert result.traffic_erlangs == pytest.approx(10.0)
    assert result.asa_s == pytest.approx(textbook_erlang_c(14, 10.0) * AHT / 4, rel=1e-9)
    # 13 agents reach 0.7956, just short.
    assert service_level(13, CALLS, AHT, INTERVAL, TARGET) < 0.8


def test_agents_needed_respects_max_occupancy():
    result = agents_needed(CALLS, AHT, INTERVAL, 0.8, TARGET, max_occupancy=0.65)
    assert result.agents == 16  # 10/16 = 0.625; 10/15 = 0.667 is too busy
    assert result.occupancy <= 0.65


def test_agents_needed_with_no_calls():
    result = agents_needed(0, AHT, INTERVAL, 0.8, TARGET)
    assert (result.agents, result.service_level, result.asa_s) == (1, 1.0, 0.0)


def test_erlang_b_recursion():
    # B(1, A) = A / (1 + A); B(2, A) = (A²/2) / (1 + A + A²/2)
    assert erlang_b(1, 2.0) == pytest.approx(2 / 3)
    assert erlang_b(2, 2.0) == pytest.approx(2 / 5)


def test_overloaded_queue():
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 12.5) == 1.0
    assert service_level(10, CALLS, AHT, INTERVAL, TARGET) == 0.0
    assert average_speed_of_answer(10, CALLS, AHT, INTERVAL) == math.inf


def test_idle_queue():
    assert erlang_c(3, 0.0) == 0.0
    assert service_level(3, 0, AHT, INTERVAL, TARGET) == 1.0


@pytest.mark.parametrize(("agents", "traffic"), [(200, 180.0), (1000, 950.0), (1500, 1499.0)])
def test_large_centres_stay_finite_and_correct(agents, traffic):
    value = erlang_c(agents, traffic)
    assert 0.0 < value < 1.0
    assert value == pytest.approx(textbook_erlang_c_large(agents, traffic), rel=1e-9)


@pytest.mark.parametrize("call", [
    lambda: erlang_c(0, 1.0),
    lambda: erlang_c(-3, 1.0),
    lambda: erlang_c(2.5, 1.0),
    lambda: erlang_c(True, 0.5),
    lambda: erlang_c(3, -1.0),
    lambda: erlang_c(3, math.nan),
    lambda: service_level(0, CALLS, AHT, INTERVAL, TARGET),
    lambda: service_level(11, -1, AHT, INTERVAL, TARGET),
    lambda: service_level(11, CALLS, 0, INTERVAL, TARGET),
    lambda: service_level(11, CALLS, AHT, 0, TARGET),
    lambda: service_level(11, CALLS, AHT, INTERVAL, -1),
    lambda: average_speed_of_answer(0, CALLS, AHT, INTERVAL),
    lambda: agents_needed(CALLS, AHT, INTERVAL, 1.0, TARGET),
    lambda: agents_needed(CALLS, AHT, INTERVAL, 0.0, TARGET),
    lambda: agents_needed(CALLS, AHT, INTERVAL, 0.8, TARGET, max_occupancy=0),
    lambda: agents_needed(CALLS, AHT, INTERVAL, 0.8, TARGET, max_occupancy=1.2),
    lambda: forecast([(datetime(2026, 3, 2, 8), -1)]),
    lambda: forecast([], weeks=0),
    lambda: forecast([("2026-03-02 08:00", 1)]),
])
def test_bad_input_is_refused(call):
    with pytest.raises(ValueError):
        call()


def test_forecast_averages_the_last_weeks_per_weekday_and_interval():
    monday = datetime(2026, 3, 2)
    history = []
    for week, calls in enumerate([100, 10, 20, 30, 40]):  # the first week is too old
        day = monday + timedelta(weeks=week)
        history.append((day.replace(hour=8), calls))
        history.append((day.replace(hour=8, minute=30), calls * 2))
        history.append(((day + timedelta(days=1)).replace(hour=8), 5))
    result = forecast(history, weeks=4)
    assert result == {
        (0, time(8)): pytest.approx(25.0),
        (0, time(8, 30)): pytest.approx(50.0),
        (1, time(8)): pytest.approx(5.0),
    }


def test_forecast_adds_rows_for_the_same_interval_and_day():
    start = datetime(2026, 3, 2, 9)
    result = forecast([(start, 3), (start, 4), (start + timedelta(weeks=1), 1)], weeks=2)
    assert result == {(0, time(9)): pytest.approx(4.0)}


def test_forecast_of_nothing():
    assert forecast([]) == {}
