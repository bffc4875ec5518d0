"""The README's production commands, as written, on the suite's database and a Redis of
the test's own: the settings they export are the ones the run needs, `config check` and
`db upgrade` succeed, and `production run` serves and stops on SIGTERM. On SQLite the
run refuses, as the README says."""

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT, TEST_SECRET_KEY, RedisServer, _free_port
from tests.test_production_run import _healthy, _wait

pytestmark = pytest.mark.worker
BIN = Path(sys.executable).parent


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _production_block() -> list[str]:
    """The command lines of the README's first shell block under "## Production"."""
    section = (ROOT / "README.md").read_text().split("\n## Production\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_production_commands_run_as_written(database_url, own_redis, tmp_path):
    lines = _production_block()
    assert lines[0] == "pip install ."  # the suite's venv has the project installed
    exported = [line.split("=", 1)[0].removeprefix("export ") for line in lines
                if line.startswith("export ")]
    assert exported == ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL"]
    commands = [shlex.split(line) for line in lines[1:] if not line.startswith("export ")]
    assert [c[:3] for c in commands] == [["citizencenter", "config", "check"],
                                         ["citizencenter", "db", "upgrade"],
                                         ["citizencenter", "production", "run"]]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "WORKER_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=own_redis.url, SECRET_KEY=TEST_SECRET_KEY,
               PUBLIC_BASE_URL=base, WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="1",
               WEB_THREADS="2", WORKER_CONCURRENCY="1",
               CITIZENCENTER_INSTANCE=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")

    def run(command):
        return subprocess.run([str(BIN / command[0]), *command[1:]], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    check = run(commands[0])
    assert check.returncode == 0, check.stdout + check.stderr
    assert TEST_SECRET_KEY not in check.stdout  # masked
    upgrade = run(commands[1])
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr

    if database_url.startswith("sqlite"):
        refused = run(commands[2])
        assert refused.returncode == 2
        assert "SQLite" in refused.stderr + refused.stdout
        assert "Traceback" not in refused.stderr
        return
    log = tmp_path / "production.log"
    with open(log, "wb") as out:
        honcho = psutil.Popen([str(BIN / commands[2][0]), *commands[2][1:]], env=env,
                              cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    output = lambda: log.read_text(errors="replace")  # noqa: E731
    try:
        _wait(lambda: _healthy(base), 180, "the web server", output)
        processes = honcho.children(recursive=True)
        honcho.send_signal(signal.SIGTERM)
        # honcho ends as the signal asks: 128 + SIGTERM, once every process has stopped.
        assert honcho.wait(timeout=120) == 128 + signal.SIGTERM, output()[-4000:]
        assert "(rc=-9)" not in output() and "sending SIGKILL" not in output()
        _, alive = psutil.wait_procs(processes, timeout=30)
        assert alive == []
    finally:
        for process in [honcho, *honcho.children(recursive=True)] if honcho.is_running() else []:
            process.kill()
