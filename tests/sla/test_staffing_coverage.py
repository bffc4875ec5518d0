"""Guides staffed per hour come from the presence history (set through the API)."""

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from citizencenter.accounts.models import User
from citizencenter.db import utcnow
from citizencenter.sla.staffing import coverage
from tests.factories import bearer
from tests.reports.dataset import STOCKHOLM


def test_staffed_hours_follow_the_presence_changes(app, client, session, tokens):
    anna = session.scalar(select(User.id).where(User.email == "anna.lindqvist@lund.example"))
    path = f"/api/v1/routing/guides/{anna}/presence"
    headers = bearer(tokens["supervisor"])
    assert client.put(path, json={"presence": "available"}, headers=headers).status_code == 200
    started = utcnow()
    time.sleep(1.5)
    assert client.put(path, json={"presence": "busy"}, headers=headers).status_code == 200
    time.sleep(0.5)  # busy is staffed too
    assert client.put(path, json={"presence": "away"}, headers=headers).status_code == 200
    ended = utcnow()
    time.sleep(0.5)  # away is not
    today = datetime.now(STOCKHOLM).date()
    staffed = coverage.staffed_per_hour(session, today, today, STOCKHOLM, 1)
    assert sum(staffed.values()) * 3600 == pytest.approx((ended - started).total_seconds(),
                                                         abs=0.3)
    local = started.astimezone(STOCKHOLM)
    assert staffed.get((local.weekday(), local.hour), 0) > 0
    # The window reaches back: tomorrow's last week holds today's hours.
    plan = coverage.coverage(session, weeks=1, timezone="Europe/Stockholm", aht_s=240,
                             today=today + timedelta(days=1))
    hour = next(h for h in plan["hours"] if h["hour"] == local.hour
                and h["weekday"] == ("monday", "tuesday", "wednesday", "thursday", "friday",
                                     "saturday", "sunday")[local.weekday()])
    assert hour["guides_available"] == round(staffed[(local.weekday(), local.hour)], 2)
