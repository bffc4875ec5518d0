"""A serving process (gunicorn's app, wsgi.py) leaves what it loaded at start to the
permanent generation, so a full garbage collection does not walk it on every request
that triggers one (150 ms pauses in the report page's p99 before)."""

import os
import subprocess
import sys

from tests.conftest import ROOT, TEST_SECRET_KEY

PROBE = """
import gc, wsgi
app = wsgi.app
client = app.test_client()
for _ in range(20):
    assert client.get('/api/v1/health').status_code in (200, 503)
gc.collect()
print(gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_the_served_app_is_frozen_after_start(database_url, redis_server, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
           "SECRET_KEY": TEST_SECRET_KEY, "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frozen, tracked = result.stdout.split()
    # The app's modules and objects are frozen; a full collection walks only the rest.
    assert int(frozen) > 100_000, result.stdout
    assert int(tracked) < int(frozen) // 5, result.stdout
