"""Multiprocess mode for the production run: one directory every process writes its
counters to, emptied at start (files of a previous run's processes would add up with
this run's). A gunicorn worker that exits is marked dead by gunicorn_hooks.py, a Celery
pool child by workers/metrics.py."""

import shutil
from pathlib import Path


def prepare(instance: Path) -> Path:
    """Empty (or make) instance/metrics, the directory for PROMETHEUS_MULTIPROC_DIR."""
    directory = instance / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700, parents=True)
    return directory
