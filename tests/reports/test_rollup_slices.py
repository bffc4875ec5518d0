"""Maintenance commits in short slices: the rollup refresh and the purges."""

import copy
from datetime import timedelta

from sqlalchemy import event, func, select

from citizencenter import db, outbox
from citizencenter.channels.phone.models import Call
from citizencenter.db import utcnow
from citizencenter.outbox import OutboxMessage
from citizencenter.reports import rollups
from tests.reports.conftest import refresh
from tests.reports.dataset import STOCKHOLM
from tests.reports.test_rollups import _report
from tests.reports.test_service_measurement import PERIODS, expected_report, values


def _count_commits(session) -> list:
    commits = []
    event.listen(session(), "after_commit", lambda _s: commits.append(1))
    return commits


def test_a_refresh_commits_in_slices_and_the_figures_stay(client, session, app, tokens,
                                                          generated, monkeypatch):
    data = copy.deepcopy(generated)
    moved = [c for c in data["calls"] if c["call_id"].endswith("7")][:40]
    for spec in moved:
        call = session.scalar(select(Call).where(Call.call_id == spec["call_id"]))
        spec["entered_at"] = call.entered_at = spec["entered_at"] - timedelta(minutes=47)
        call.local_date = spec["entered_at"].astimezone(STOCKHOLM).date()
    session.commit()

    monkeypatch.setattr(rollups, "CHUNK", 7)
    commits = _count_commits(db.session)
    result = refresh(session, app)
    assert not result.rebuilt and result.calls_read >= 40
    assert len(commits) >= 40 // 7 + 1  # one per slice of seven, and the watermarks
    for start, end in PERIODS:
        assert values(_report(client, tokens, start, end)) == expected_report(data, start, end)
    assert refresh(session, app).facts_written == 0  # nothing left half done


def test_purges_delete_a_slice_per_commit(session, monkeypatch):
    old, recent = utcnow() - timedelta(days=30), utcnow()
    session.add_all(OutboxMessage(topic="test.purge", payload={}, published_at=at)
                    for at in [old] * 25 + [recent] * 2)
    session.commit()
    monkeypatch.setattr(db, "PURGE_SLICE", 10)
    commits = _count_commits(db.session)
    assert outbox.purge_published(session, utcnow() - timedelta(days=7)) == 25
    assert len(commits) == 3
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == "test.purge")) == 2
