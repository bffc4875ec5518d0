"""Business calendars as data: the API, versions, and bad input refused with reasons."""

import pytest
from sqlalchemy import func, select

from citizencenter.sla.calendars.models import SlaCalendar, SlaCalendarVersion
from tests.factories import bearer
from tests.sla.helpers import calendar_body

URL = "/api/v1/sla/calendars"


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (SlaCalendar, SlaCalendarVersion))


def test_create_read_and_list(client, tokens):
    response = client.post(URL, json=calendar_body("lunchstangt", service_point="dalby"),
                           headers=bearer(tokens["supervisor"]))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith("/sla/calendars/lunchstangt")
    body = response.get_json()
    assert body["version"] == 1 and body["service_point"] == "dalby"
    assert body["weekly_hours"]["monday"] == ["08:00-12:00", "13:00-17:00"]
    assert "saturday" not in body["weekly_hours"]
    assert body["shortened_days"] == {"2026-04-30": ["08:00-13:00"]}
    assert body["timezone"] == "Europe/Stockholm" and body["swedish_holidays"] is True

    read = client.get(f"{URL}/lunchstangt", headers=bearer(tokens["supervisor"])).get_json()
    assert read == body
    listed = client.get(URL, query_string={"limit": 100}, headers=bearer(tokens["admin"]))
    slugs = [c["slug"] for c in listed.get_json()["items"]]
    assert "lunchstangt" in slugs and "kontorstid" in slugs  # the demo default too
    assert slugs == sorted(slugs)


def test_eves_are_shortened_days_every_year(client, tokens):
    body = calendar_body("aftnar", shortened_days={"valborgsmassoafton": ["08:00-14:00"],
                                                   "2026-12-22": ["08:00-12:00"]})
    response = client.post(URL, json=body, headers=bearer(tokens["admin"]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["shortened_days"] == {
        "2026-12-22": ["08:00-12:00"], "valborgsmassoafton": ["08:00-14:00"]}


def test_the_default_office_hours_close_early_on_three_eves(client, tokens):
    body = client.get(f"{URL}/kontorstid", headers=bearer(tokens["admin"])).get_json()
    assert body["shortened_days"] == {"allhelgonaafton": ["08:00-14:00"],
                                      "trettondagsafton": ["08:00-14:00"],
                                      "valborgsmassoafton": ["08:00-14:00"]}


def test_changed_hours_make_a_new_version_and_same_hours_do_not(client, tokens):
    headers = bearer(tokens["admin"])
    client.post(URL, json=calendar_body("versioner"), headers=headers)
    body = calendar_body("versioner")
    del body["slug"]
    same = client.put(f"{URL}/versioner", json=body, headers=headers).get_json()
    assert same["version"] == 1
    body["weekly_hours"]["friday"] = ["08:00-16:00"]
    changed = client.put(f"{URL}/versioner", json=body, headers=headers).get_json()
    assert changed["version"] == 2
    assert [v["version"] for v in changed["versions"]] == [1, 2]
    assert changed["weekly_hours"]["friday"] == ["08:00-16:00"]


def test_guides_may_not_change_calendars(client, tokens, session):
    before = _counts(session)
    response = client.post(URL, json=calendar_body("gissning"),
                           headers=bearer(tokens["guide"]))
    assert response.status_code == 403
    assert _counts(session) == before


def test_duplicate_slug_is_a_conflict(client, tokens):
    headers = bearer(tokens["admin"])
    assert client.post(URL, json=calendar_body("dubbel"), headers=headers).status_code == 201
    response = client.post(URL, json=calendar_body("dubbel"), headers=headers)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"


def _hours(**days):
    return {"weekly_hours": days}


BAD = [
    ("overlapping intervals", _hours(monday=["08:00-12:00", "11:00-17:00"]),
     "weekly_hours.monday", "overlap"),
    ("end before start", _hours(tuesday=["17:00-08:00"]), "weekly_hours.tuesday",
     "ends before it starts"),
    ("hour out of range", _hours(monday=["25:00-26:00"]), "weekly_hours.monday", "hour"),
    ("not a time", _hours(monday=["åtta-fem"]), "weekly_hours.monday", "not a clock time"),
    ("no separator", _hours(monday=["08:00"]), "weekly_hours.monday", "08:00-12:00"),
    ("unknown weekday", _hours(funday=["08:00-17:00"]), "weekly_hours.funday", "Unknown"),
    ("never open", _hours(), "weekly_hours", "open at some time"),
    ("unknown field", {"colour": "blå"}, "colour", "Unknown field"),
    ("unknown channel", {"channel": "fax"}, "channel", "Must be one of"),
    ("unknown time zone", {"timezone": "Europe/Lund"}, "timezone", "Unknown time zone"),
    ("bad closed date", {"closed_dates": ["2026-02-30"]}, "closed_dates.0", "date"),
    ("overlapping shortened day", {"shortened_days": {"2026-04-30": ["08:00-13:00",
                                                                     "12:00-14:00"]}},
     "shortened_days.2026-04-30.value", "overlap"),
    ("closed and shortened", {"closed_dates": ["2026-04-30"]}, "shortened_days", "both"),
    ("unknown eve", {"shortened_days": {"lucia": ["08:00-13:00"]}},
     "shortened_days.lucia.key", "date"),
    ("unknown service point", {"service_point": "malmo"}, "service_point", "Unknown"),
    ("bad slug", {"slug": "Stora Bokstäver"}, "slug", "lower-case"),
]


@pytest.mark.parametrize(("name", "change", "field", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_calendars_are_refused_with_the_reason(client, tokens, session, name, change,
                                                   field, reason):
    before = _counts(session)
    body = {**calendar_body("felaktig"), **change}
    response = client.post(URL, json=body, headers=bearer(tokens["admin"]))
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    matching = [e for e in problem["errors"] if e["field"] == field]
    assert matching, problem
    assert reason.lower() in matching[0]["message"].lower(), problem
    assert _counts(session) == before


def test_bad_update_changes_nothing(client, tokens):
    headers = bearer(tokens["admin"])
    client.post(URL, json=calendar_body("orubbad"), headers=headers)
    body = calendar_body("orubbad", weekly_hours={"monday": ["08:00-12:00", "10:00-11:00"]})
    del body["slug"]
    response = client.put(f"{URL}/orubbad", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "weekly_hours.monday"
    read = client.get(f"{URL}/orubbad", headers=headers).get_json()
    assert read["version"] == 1 and read["weekly_hours"]["monday"] == ["08:00-12:00",
                                                                       "13:00-17:00"]


def test_unknown_calendar_is_404(client, tokens):
    response = client.get(f"{URL}/finns-inte", headers=bearer(tokens["admin"]))
    assert response.status_code == 404
