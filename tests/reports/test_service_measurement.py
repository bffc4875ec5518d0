"""The service-measurement report against figures computed plainly from the generated rows."""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from citizencenter.reports import service as reports
from tests.factories import bearer
from tests.reports import expected as ex
from tests.reports.dataset import STOCKHOLM

CHANNELS = ("phone", "email", "social", "webform", "walk_in")


def get(client, token, query, status=200):
    response = client.get(f"/api/v1/reports/service-measurement?{query}", headers=bearer(token))
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def _in(rows, key, start, end):
    return [r for r in rows if start <= r[key] < end]


def expected_report(data, start, end, queue=None, department=None, group=None) -> dict:
    calls, cases = _in(data["calls"], "entered_at", start, end), \
        _in(data["cases"], "received_at", start, end)
    if group:  # (group_by, key): only the contacts of that group
        of_call, of_case = ex.group_of(group[0], data)
        calls = [c for c in calls if of_call(c) == group[1]]
        cases = [c for c in cases if of_case(c) == group[1]]
    if queue:
        calls = [c for c in calls if c["queue"] == queue]
        cases = [c for c in cases if data["queue_slugs"].get(c["queue_id"]) == queue]
    if department:
        calls = [c for c in calls if data["queue_departments"].get(c["queue"]) == department]
        cases = [c for c in cases
                 if data["department_slugs"].get(c["department_id"]) == department]
    flags = {c["id"]: c["resolved_at_first_contact"] for c in data["cases"]}
    feedback = {f["case_id"]: f for f in data["feedback"]}
    out = {}
    for channel in CHANNELS:
        mine = [c for c in cases if c["channel"] == channel]
        figures = ex.case_figures(mine, data["cases"], feedback)
        if channel == "phone":
            figures |= ex.phone(calls, flags)
        if channel in ("email", "social", "webform"):
            figures |= ex.written([c for c in mine if c["kind"] == "inquiry"])
        out[channel] = figures
    out["overall"] = ex.case_figures(cases, data["cases"], feedback)
    out["departments"] = ex.departments(cases, data["department_slugs"])
    return out


def values(report: dict) -> dict:
    out = {channel: {name: f["value"] for name, f in report[channel].items()}
           for channel in (*CHANNELS, "overall")}
    out["departments"] = {slug: {name: f["value"] for name, f in figures.items()}
                          for slug, figures in report["departments"].items()}
    return out


def local(*fields) -> datetime:
    return datetime(*fields, tzinfo=STOCKHOLM)


PERIODS = [
    (local(2025, 6, 2), local(2026, 1, 5)),  # everything
    (local(2025, 6, 16), local(2025, 6, 30)),  # midsommar week
    (local(2025, 12, 22, 10, 15), local(2025, 12, 27, 16, 45)),  # jul, ragged edges
]


def _query(start, end, **more) -> str:
    return "&".join([f"from={quote(start.isoformat())}", f"to={quote(end.isoformat())}",
                     *(f"{k}={v}" for k, v in more.items())])


@pytest.mark.parametrize(("start", "end"), PERIODS, ids=["all", "midsommar", "jul-edges"])
def test_every_figure_matches_the_plain_computation(client, tokens, generated, start, end):
    report = get(client, tokens["supervisor"], _query(start, end)).get_json()
    assert values(report) == expected_report(generated, start, end)
    assert report["phone"]["calls_offered"]["value"] > 0


def test_a_year_of_the_phone_figures_equals_the_telephony_report(client, tokens, generated):
    start, end = PERIODS[0]
    for queue in (None, "bygglov"):
        extra = {"queue": queue} if queue else {}
        ours = get(client, tokens["supervisor"], _query(start, end, **extra)).get_json()["phone"]
        telephony = client.get(f"/api/v1/reports/telephony?{_query(start, end, **extra)}",
                               headers=bearer(tokens["supervisor"])).get_json()["totals"]
        assert ours["service_level_120"]["value"] == telephony["service_level"]["120"]
        assert ours["service_level_60"]["value"] == telephony["service_level"]["60"]
        for name in ("direct_answer_rate", "asa_seconds", "abandon_rate", "aht_seconds",
                     "transfer_rate", "longest_wait_seconds"):
            assert ours[name]["value"] == telephony[name], name
        assert ours["calls_offered"]["value"] == telephony["offered"]


def test_queue_and_department_filters(client, tokens, generated):
    start, end = PERIODS[0]
    by_queue = get(client, tokens["supervisor"], _query(start, end, queue="bygglov")).get_json()
    assert values(by_queue) == expected_report(generated, start, end, queue="bygglov")
    by_department = get(client, tokens["supervisor"],
                        _query(start, end, department="stadsbyggnad")).get_json()
    assert values(by_department) == expected_report(generated, start, end,
                                                    department="stadsbyggnad")
    one = get(client, tokens["supervisor"], _query(start, end, channel="email")).get_json()
    assert "phone" not in one and one["overall"]["cases_received"]["value"] == \
        one["email"]["cases_received"]["value"]


def test_targets_met_and_comparability(client, tokens, generated):
    report = get(client, tokens["supervisor"], _query(*PERIODS[0])).get_json()
    sl = report["phone"]["service_level_120"]
    assert sl["target"] == 0.8 and sl["met"] == (sl["value"] >= 0.8)
    assert sl["formula"] == "offered" and sl["unit"] == "ratio"
    asa = report["phone"]["asa_seconds"]
    assert asa["comparison"] == "<=" and asa["met"] == (asa["value"] <= 60)
    courtesy = report["email"]["courtesy_skr_index"]
    assert courtesy["comparable"] is (courtesy["n"] >= 100)
    assert report["walk_in"]["courtesy_kkik_percent"]["mapping"] == {
        "5": 3, "4": 2, "3": 1, "2": 0, "1": 0}
    assert report["walk_in"]["courtesy_skr_index"]["comparable"] is False  # n < 100
    assert "offered" in report["definitions"]["service_level"]["text"]


def test_monthly_intervals_add_up(client, tokens, generated):
    start, end = PERIODS[0]
    report = get(client, tokens["supervisor"], _query(start, end, interval="month")).get_json()
    months = [datetime.fromisoformat(i["start"]) for i in report["intervals"]]
    assert [(m.year, m.month) for m in months] == [
        (2025, 6), (2025, 7), (2025, 8), (2025, 9), (2025, 10), (2025, 11), (2025, 12),
        (2026, 1)]
    for interval, month_start in zip(report["intervals"], months, strict=True):
        month_end = local(month_start.year + month_start.month // 12,
                          month_start.month % 12 + 1, 1)
        plain = expected_report(generated, max(start, month_start), min(end, month_end))
        assert interval["phone"]["calls_offered"]["value"] == plain["phone"]["calls_offered"]
        assert interval["email"]["answered_within_24h"]["value"] == \
            plain["email"]["answered_within_24h"]


def test_quarter_hours_of_one_day(client, tokens, generated):
    day = local(2025, 12, 23)
    report = get(client, tokens["supervisor"],
                 _query(day, day + timedelta(days=1), interval="15min")).get_json()
    total = 0
    for interval in report["intervals"]:
        start = datetime.fromisoformat(interval["start"])
        plain = ex.phone(_in(generated["calls"], "entered_at", start,
                             start + timedelta(minutes=15)), {})
        assert interval["phone"]["calls_offered"]["value"] == plain["calls_offered"]
        total += plain["calls_offered"]
    assert total == len([c for c in _in(generated["calls"], "entered_at", day,
                                        day + timedelta(days=1))
                         if not (c["outcome"] == "abandoned" and c["wait_s"] <= 5)])


def test_csv_has_one_row_per_figure(client, tokens, generated):
    start, end = PERIODS[1]
    report = get(client, tokens["supervisor"], _query(start, end)).get_json()
    for query, headers in ((_query(start, end, format="csv"), {}),
                           (_query(start, end), {"Accept": "text/csv"})):
        response = client.get(f"/api/v1/reports/service-measurement?{query}",
                              headers={**bearer(tokens["supervisor"]), **headers})
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        sl = next(r for r in rows if r["channel"] == "phone"
                  and r["figure"] == "service_level_120")
        assert float(sl["value"]) == report["phone"]["service_level_120"]["value"]
        assert sl["target"] == "0.8" and sl["met"] in ("true", "false") and sl["unit"] == "ratio"
        assert len([r for r in rows if not r["channel"].startswith("department:")]) == sum(
            len(report[c]) for c in (*CHANNELS, "overall"))


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-02-01&to=2026-01-01", "from"),
    ("from=2026-01-01&to=2026-01-01", "from"),
    ("from=2026-01-01&to=2026-02-01&channel=fax", "channel"),
    ("from=2025-01-01&to=2026-01-01&interval=15min", "to"),
    ("from=2025-01-01&to=2026-01-01&interval=fortnight", "interval"),
    ("from=2020-01-01&to=2026-01-01", "to"),
    ("from=2026-01-01T08:10:00%2B01:00&to=2026-01-02", "from"),
    ("from=2026-01-01&to=2026-01-02T08:00:30Z", "to"),
    ("from=2026-01-01T08:00:00&to=2026-01-02", "from"),
    ("from=2026-01-01&to=2026-01-02&department=okand", "department"),
    ("from=2026-01-01&to=2026-01-02&format=xml", "format"),
    ("from=2026-01-01&to=2026-01-02&colour=red", "colour"),
    ("to=2026-01-02", "from"),
])
def test_bad_queries_are_422_naming_the_field(client, tokens, query, field):
    response = get(client, tokens["supervisor"], query, status=422)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert field in [e["field"] for e in body["errors"]], body
    assert body["detail"]


def test_only_supervisors_read_the_report(client, tokens):
    get(client, tokens["guide"], "from=2026-01-01&to=2026-01-02", status=403)
    response = client.get("/api/v1/reports/service-measurement?from=2026-01-01&to=2026-01-02")
    assert response.status_code == 401


def test_an_empty_period_has_no_values_but_all_figures(client, tokens):
    report = get(client, tokens["supervisor"], "from=2024-01-01&to=2024-02-01").get_json()
    assert report["phone"]["service_level_120"] == {
        "value": None, "unit": "ratio", "target": 0.8, "comparison": ">=", "met": None, "n": 0,
        "formula": "offered"}
    assert report["email"]["answered_within_24h"]["n"] == 0


def test_utc_bounds_are_read_exactly(client, tokens, generated):
    start = datetime(2025, 9, 1, 6, 45, tzinfo=UTC)
    end = datetime(2025, 9, 3, 12, 0, tzinfo=UTC)
    report = get(client, tokens["supervisor"], _query(start, end)).get_json()
    assert values(report) == expected_report(generated, start, end)


@pytest.mark.parametrize("group_by", ["guide", "queue", "department"])
def test_figures_per_guide_queue_and_department_match_the_plain_computation(
        client, tokens, generated, group_by):
    start, end = PERIODS[2]  # ragged edges: 15-minute cells and whole days
    report = get(client, tokens["supervisor"], _query(start, end, group_by=group_by)).get_json()
    assert report["group_by"] == group_by
    of_call, of_case = ex.group_of(group_by, generated)
    keys = {of_call(c) for c in _in(generated["calls"], "entered_at", start, end)} | {
        of_case(c) for c in _in(generated["cases"], "received_at", start, end)
        if c["kind"] == "inquiry"}
    groups = [g["group"] for g in report["groups"]]
    assert len(groups) == len(set(groups)) and set(groups) == keys
    assert len(keys) > 2
    for group in report["groups"]:
        want = expected_report(generated, start, end, group=(group_by, group["group"]))
        got = {channel: {name: f["value"] for name, f in group[channel].items()}
               for channel in (*CHANNELS, "overall")}
        assert got == {k: v for k, v in want.items() if k != "departments"}, group["group"]
    # The groups add up to the whole.
    assert sum(g["overall"]["cases_received"]["value"] for g in report["groups"]) == \
        report["overall"]["cases_received"]["value"]


def test_grouped_csv_names_each_group(client, tokens, generated):
    start, end = PERIODS[1]
    report = get(client, tokens["supervisor"], _query(start, end, group_by="guide")).get_json()
    text = get(client, tokens["supervisor"],
               _query(start, end, group_by="guide", format="csv")).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["group", "interval_start", "channel", "figure", "value", "unit",
                             "target", "met", "n"]
    guide = next(g for g in report["groups"] if g["group"] is not None)
    offered = next(r for r in rows if r["group"] == f"guide:{guide['group']}"
                   and r["channel"] == "phone" and r["figure"] == "calls_offered")
    assert int(offered["value"]) == guide["phone"]["calls_offered"]["value"]
    assert {r["group"] for r in rows if r["figure"] == "cases_received"
            and r["channel"] == "overall"} == {"", *(
                f"guide:{'none' if g['group'] is None else g['group']}"
                for g in report["groups"])}


def test_telephony_report_as_csv(client, tokens, generated):
    start, end = PERIODS[1]
    query = _query(start, end, interval="day", queue="bygglov")
    url = f"/api/v1/reports/telephony?{query}"
    report = client.get(url, headers=bearer(tokens["supervisor"])).get_json()
    for response in (client.get(f"{url}&format=csv", headers=bearer(tokens["supervisor"])),
                     client.get(url, headers={**bearer(tokens["supervisor"]),
                                              "Accept": "text/csv"})):
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "telefoni.csv" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) == 1 + len(report["intervals"])
        totals, first = rows[0], rows[1]
        assert totals["interval_start"] == "" and int(totals["offered"]) == \
            report["totals"]["offered"]
        assert float(totals["service_level_120"]) == report["totals"]["service_level"]["120"]
        assert first["interval_start"] == report["intervals"][0]["start"]
        assert float(first["asa_seconds"]) == report["intervals"][0]["asa_seconds"]
    assert client.get(f"{url}&format=xml", headers=bearer(tokens["supervisor"])
                      ).status_code == 422


def _the_service_s_own_json(app, report: dict) -> bytes:
    return app.json.response(report).get_data()


@pytest.mark.parametrize(("period", "extra"), [
    (0, {"interval": "month"}),
    (2, {"group_by": "guide"}),
    (2, {"group_by": "department", "channel": "phone", "interval": "hour"}),
], ids=["months", "per-guide", "phone-per-department-hourly"])
def test_the_json_is_the_service_s_report_unchanged(app, session, client, tokens, generated,
                                                    period, extra):
    start, end = PERIODS[period]
    response = get(client, tokens["supervisor"], _query(start, end, **extra))
    report = reports.service_measurement(session, start, end,
                                         reports.report_settings(app.config), **extra)
    assert report["rollups_refreshed_at"] and report.get("intervals", report.get("groups"))
    assert response.get_data() == _the_service_s_own_json(app, report)


@pytest.mark.parametrize(("period", "extra"), [
    (0, {}), (1, {"interval": "hour", "queue": "bygglov"}), (2, {"interval": "day"}),
], ids=["totals", "hours-of-a-queue", "days"])
def test_the_telephony_json_is_the_service_s_report_unchanged(app, session, client, tokens,
                                                              generated, period, extra):
    start, end = PERIODS[period]
    response = client.get(f"/api/v1/reports/telephony?{_query(start, end, **extra)}",
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200
    report = reports.telephony_report(session, start, end, app.config, **extra)
    assert report["totals"]["offered"] > 0
    assert response.get_data() == _the_service_s_own_json(app, report)
