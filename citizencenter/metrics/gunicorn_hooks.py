"""gunicorn's settings module for the production run (`--config python:…`): a worker that
exits (restarted, or killed at a timeout) is marked dead, so its gauges do not linger."""

import os


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
