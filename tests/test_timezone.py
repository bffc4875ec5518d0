"""TIMEZONE: one setting for local days and hours, read from the app's config."""

import subprocess
import sys

from tests.conftest import ROOT

# A child process: create_app sets the zone for the whole process.
SCRIPT = """
import sys
from datetime import UTC, datetime
from citizencenter import create_app
from citizencenter.reports import facts, telephony
from citizencenter.config import local_zone

create_app({"TIMEZONE": sys.argv[1]})
moment = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)  # new year in Lund, still 2025 in New York
start, _ = telephony.local_bounds(moment.date(), moment.date())
print(local_zone().key, facts.bucket_of(moment)[1], start.utcoffset(), sep="|")
"""


def _run(worker_env, zone: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, zone], env=worker_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_local_days_follow_the_configured_timezone(worker_env):
    stockholm, new_york = _run(worker_env, "Europe/Stockholm"), _run(worker_env,
                                                                       "America/New_York")
    assert stockholm.stdout.strip() == "Europe/Stockholm|2026-01-01|1:00:00", stockholm.stderr
    assert new_york.stdout.strip() == "America/New_York|2025-12-31|-1 day, 19:00:00", \
        new_york.stderr


def test_an_unknown_timezone_refuses_to_start(worker_env):
    refused = _run(worker_env, "Europe/Lund")
    assert refused.returncode != 0
    assert "TIMEZONE 'Europe/Lund' is not a known time zone" in refused.stderr
