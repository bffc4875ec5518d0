"""Celery's task signals counted by citizencenter.metrics: runs by outcome, and duration."""

import os

from celery import signals

from citizencenter.metrics import instruments


def _prerun(task_id=None, **_):
    instruments.task_started(task_id)


def _postrun(task_id=None, task=None, state=None, **_):
    instruments.task_finished(task_id, task.name, state)


def _process_shutdown(**_):
    # A pool child that exits leaves its files for the others to add up; its live gauges
    # (none yet) would be wrong, so they go (prometheus_client's multiprocess bookkeeping).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def connect() -> None:
    """Count every task run of this process; connecting twice is once."""
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="citizencenter.metrics")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="citizencenter.metrics")
    signals.worker_process_shutdown.connect(_process_shutdown, weak=False,
                                            dispatch_uid="citizencenter.metrics")
