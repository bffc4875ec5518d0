"""Log lines of the worker and beat: the app's format (LOG_FORMAT), and on each line of a
task its name, id, the request id that started it (the message's `request_id` header)
and the case it is about."""

import contextlib
import json
import os
import sys
from datetime import UTC, datetime

from celery import signals
from celery.apps import worker as celery_worker

from citizencenter import log_context, logs

_bound: dict[str, list] = {}


def _case_id(args) -> str | None:
    """The case a task's payload names, when it names exactly one."""
    payload = args[0] if args and isinstance(args[0], dict) else {}
    ids = payload.get("case_ids")
    if isinstance(ids, list) and len(ids) == 1:
        return str(ids[0])
    return str(payload["case_id"]) if payload.get("case_id") else None


def _say_as_json(msg, f=None):
    """Celery's notice from a signal handler as one JSON line: written straight to the
    stream's file descriptor, as Celery's own safe_say does, since logging's locks must
    not be taken in a signal handler."""
    line = {"time": datetime.now(UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"), "level": "WARNING", "logger": "celery.apps.worker",
        "message": str(msg), "process": os.getpid()}
    with contextlib.suppress(OSError, ValueError):
        os.write((f or sys.__stderr__).fileno(), (json.dumps(line) + "\n").encode())


def _prerun(task_id=None, task=None, args=None, **_):
    request_id = task.request.get("request_id") if task is not None else None
    _bound[task_id] = log_context.bind(
        request_id=request_id if isinstance(request_id, str) else None,
        task_name=getattr(task, "name", None), task_id=task_id, case_id=_case_id(args))


def _postrun(task_id=None, **_):
    tokens = _bound.pop(task_id, None)
    if tokens:
        with contextlib.suppress(ValueError):  # bound in another context: it ends anyway
            log_context.unbind(tokens)


def _carry_request_id(headers=None, **_):
    # A message sent while a task runs (its retry, above all: Celery does not copy a
    # message's own headers into it) carries the task's request id on.
    request_id = log_context.request_id()
    if request_id and isinstance(headers, dict) and not headers.get("request_id"):
        headers["request_id"] = request_id


def connect(config) -> None:
    """Log in the app's format instead of Celery's, with the task's context on each line."""

    def setup_logging(loglevel=None, **_):
        # Connected, this replaces Celery's own set-up (and its hijack of the root logger).
        logs.configure(config["LOG_FORMAT"], loglevel or config["LOG_LEVEL"])

    def json_only(instance=None, **_):
        # The start banner and the shutdown notices are printed, not logged: in the JSON
        # format the banner is left out and the notices are written as JSON lines.
        if config["LOG_FORMAT"] == "json" and instance is not None:
            instance.quiet = True
            celery_worker.safe_say = _say_as_json

    signals.setup_logging.connect(setup_logging, weak=False,
                                  dispatch_uid="citizencenter.logs")
    signals.celeryd_init.connect(json_only, weak=False, dispatch_uid="citizencenter.logs")
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="citizencenter.logs")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="citizencenter.logs")
    signals.before_task_publish.connect(_carry_request_id, weak=False,
                                        dispatch_uid="citizencenter.logs")
