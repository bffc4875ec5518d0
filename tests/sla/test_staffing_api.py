"""Staffing through the API: Erlang C against the textbook formula, and the call forecast."""

import itertools
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from citizencenter.channels.phone.models import Call, CallOutcome
from tests.factories import bearer

ERLANG = "/api/v1/staffing/erlang-c"
FORECAST = "/api/v1/staffing/forecast"
_ids = itertools.count(1)


def textbook_erlang_c(agents: int, traffic: float) -> float:
    queued = traffic ** agents / math.factorial(agents) * agents / (agents - traffic)
    served = sum(traffic ** k / math.factorial(k) for k in range(agents))
    return queued / (served + queued)


def textbook_service_level(agents, traffic, aht, answer_within):
    return 1 - textbook_erlang_c(agents, traffic) * math.exp(
        -(agents - traffic) * answer_within / aht)


def test_published_example_with_eleven_agents(client, tokens):
    # 100 calls in 30 minutes, 180 s handling time: 10 Erlangs.
    response = client.post(ERLANG, headers=bearer(tokens["supervisor"]), json={
        "calls": 100, "interval_s": 1800, "aht_s": 180, "agents": 11,
        "target_service_level": 0.8, "answer_within_s": 20})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    wait = textbook_erlang_c(11, 10.0)
    assert wait == pytest.approx(0.6821, abs=5e-5)
    assert body["wait_probability"] == pytest.approx(wait, rel=1e-9)
    assert body["asa_s"] == pytest.approx(wait * 180 / (11 - 10), rel=1e-9)
    assert body["asa_s"] == pytest.approx(122.8, abs=0.05)
    assert body["service_level"] == pytest.approx(textbook_service_level(11, 10, 180, 20))
    assert body["traffic_erlangs"] == pytest.approx(10.0)
    assert body["meets_target"] is False and body["occupancy"] == pytest.approx(10 / 11)


@pytest.mark.parametrize(("target", "within"), [(0.8, 20), (0.97, 120), (0.9, 60)])
def test_guides_needed_is_the_fewest_that_reach_the_target(client, tokens, target, within):
    response = client.post(ERLANG, headers=bearer(tokens["supervisor"]), json={
        "calls": 100, "interval_s": 1800, "aht_s": 180, "target_service_level": target,
        "answer_within_s": within})
    body = response.get_json()
    expected = next(n for n in range(11, 60)
                    if textbook_service_level(n, 10.0, 180, within) >= target)
    assert body["agents"] == expected and body["meets_target"] is True
    assert body["service_level"] == pytest.approx(
        textbook_service_level(expected, 10.0, 180, within))


def test_max_occupancy_adds_guides(client, tokens):
    response = client.post(ERLANG, headers=bearer(tokens["supervisor"]), json={
        "calls": 100, "interval_s": 1800, "aht_s": 180, "target_service_level": 0.5,
        "answer_within_s": 20, "max_occupancy": 0.6})
    body = response.get_json()
    assert body["agents"] == 17 and body["occupancy"] <= 0.6  # ceil(10 / 0.6)


def test_too_few_guides_never_answer(client, tokens):
    body = client.post(ERLANG, headers=bearer(tokens["supervisor"]), json={
        "calls": 100, "interval_s": 1800, "aht_s": 180, "agents": 9}).get_json()
    assert body["asa_s"] is None and body["service_level"] == 0.0
    assert body["wait_probability"] == 1.0


BAD = [
    ({"calls": -5}, "calls"),
    ({"aht_s": 0}, "aht_s"),
    ({"target_service_level": 1.5}, "target_service_level"),
    ({"target_service_level": 1}, "target_service_level"),
    ({"max_occupancy": 0}, "max_occupancy"),
    ({"interval_s": 0}, "interval_s"),
    ({"agents": 0}, "agents"),
    ({"calls": "many"}, "calls"),
    ({"queue_colour": "red"}, "queue_colour"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_staffing_input(client, tokens, change, field):
    body = {"calls": 100, "interval_s": 1800, "aht_s": 180, **change}
    response = client.post(ERLANG, json=body, headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_guides_may_not_plan_staffing(client, tokens):
    response = client.post(ERLANG, json={"calls": 1, "aht_s": 1},
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 403


def _calls(session, day, hour, count, queue="kontaktcenter"):
    entered = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)
    for _ in range(count):
        session.add(Call(source="test", call_id=f"forecast-{next(_ids)}", queue=queue,
                         outcome=CallOutcome.ANSWERED, entered_at=entered, local_date=day,
                         local_hour=hour))
    session.flush()


def test_forecast_from_recent_weeks_is_counted_in_sql(client, tokens, session):
    today = datetime.now(ZoneInfo("Europe/Stockholm")).date()
    last_monday = today - timedelta(days=today.weekday() or 7)
    _calls(session, last_monday, 9, 10)
    _calls(session, last_monday - timedelta(days=7), 9, 20)
    _calls(session, last_monday - timedelta(days=6), 10, 6)  # a Tuesday, once in two weeks
    _calls(session, last_monday - timedelta(days=21), 9, 50)  # outside two weeks
    _calls(session, last_monday, 9, 7, queue="bygglov")
    _calls(session, today, 9, 40)  # today is not a whole day yet

    statements = []
    engine = session.get_bind().engine

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        response = client.get(FORECAST, headers=bearer(tokens["supervisor"]),
                              query_string={"weeks": 2, "queue": "kontaktcenter",
                                            "aht_s": 180})
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    slots = {(i["weekday"], i["interval_start"]): i for i in body["intervals"]}
    assert set(slots) == {("monday", "09:00"), ("tuesday", "10:00")}
    assert slots[("monday", "09:00")]["calls"] == 15.0
    assert slots[("tuesday", "10:00")]["calls"] == 3.0
    assert slots[("monday", "09:00")]["agents"] >= 1
    assert body["total_calls"] == 36 and body["weeks"] == 2 and body["interval_s"] == 3600
    assert body["to"] == (today - timedelta(days=1)).isoformat()
    assert any("GROUP BY" in s.upper() and "calls" in s for s in statements)

    everything = client.get(FORECAST, headers=bearer(tokens["supervisor"]),
                            query_string={"weeks": 2}).get_json()
    assert "intervals" in everything, everything
    assert {(i["weekday"], i["interval_start"]): i["calls"]
            for i in everything["intervals"]}[("monday", "09:00")] == 18.5


@pytest.mark.parametrize("query", [{"weeks": 0}, {"weeks": 100}, {"weeks": "fyra"},
                                   {"hours": 1}, {"aht_s": -1}])
def test_bad_forecast_queries(client, tokens, query):
    response = client.get(FORECAST, query_string=query, headers=bearer(tokens["supervisor"]))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["location"] == "query"
