"""Builders for the SLA tests."""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.factories import bearer

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=STOCKHOLM)


def iso_utc(moment: datetime) -> str:
    """As the API writes date-times: UTC with an explicit offset."""
    return moment.astimezone(ZoneInfo("UTC")).isoformat()


def sla_of(client, token: str, case_id: str) -> dict:
    response = client.get(f"/api/v1/cases/{case_id}/sla", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def timers_by_policy(sla: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for timer in sla["timers"]:
        found.setdefault(timer["policy"], []).append(timer)
    return found


def calendar_body(slug: str, **overrides) -> dict:
    body = {"slug": slug, "name": f"Kalender {slug}", "channel": "social",
            "weekly_hours": {day: ["08:00-12:00", "13:00-17:00"]
                             for day in ("monday", "tuesday", "wednesday", "thursday")}
            | {"friday": ["08:00-15:00"]},
            "closed_dates": ["2026-12-23"], "shortened_days": {"2026-04-30": ["08:00-13:00"]}}
    body.update(overrides)
    return body


def policy_body(slug: str, **overrides) -> dict:
    body = {"slug": slug, "name": f"Policy {slug}", "metric": "first_response",
            "channel": "social", "target_value": 1, "target_unit": "hours",
            "calendar": None, "warn_at_percent": 80}
    body.update(overrides)
    return body
