"""The Celery app: its beat schedule follows the app's config, its tasks hand back the session."""

import json
import subprocess
import sys

from tests.conftest import ROOT

# Run in a child process: importing workers.celery_app builds the Celery app of the
# environment, and make_celery makes its app the process's default.
SCRIPT = """
import json
from citizencenter import create_app, db
from workers.celery_app import make_celery
import workers.tasks.dashboard, workers.tasks.maintenance

flask_app = create_app({"SLA_SCAN_INTERVAL_S": 7, "ROLLUP_REFRESH_S": 11,
                        "REDIS_URL": "redis://127.0.0.1:1/0"})
celery = make_celery(flask_app)
schedule = celery.conf.beat_schedule
left_open = {}
celery.tasks["maintenance.purge_expired"]()
left_open["returned"] = db.session.registry.has()
try:
    celery.tasks["dashboard.publish_snapshot"]()  # reads the database, then Redis is gone
    left_open["raised"] = "did not raise"
except Exception:
    left_open["raised"] = db.session.registry.has()
print(json.dumps({"sla": schedule["scan-sla-deadlines"],
                  "rollups": schedule["refresh-rollups"]["schedule"],
                  "left_open": left_open}))
"""


def _run(worker_env) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=worker_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_beat_schedule_and_session_clean_up_follow_the_app(worker_env):
    result = _run(worker_env)
    # Intervals given to create_app(config), not only those of the environment.
    assert result["sla"] == {"task": "sla.scan_deadlines", "schedule": 7.0,
                             "options": {"expires": 7}}
    assert result["rollups"] == 11.0
    # The base task removes the scoped session after a run, returned or raised.
    assert result["left_open"] == {"returned": False, "raised": False}
