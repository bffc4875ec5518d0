"""The counters and histograms every process writes: web requests and Celery tasks.

Under the production run PROMETHEUS_MULTIPROC_DIR is set before anything imports
prometheus_client, so each gunicorn worker and Celery pool child writes its own file
there and a scrape of any web worker adds them all up (multiprocess.py).
"""

import time

from prometheus_client import Counter, Histogram

# Web requests take milliseconds; an SSE stream's first answer or a report can take
# seconds. Tasks range from a routing decision to an IMAP poll of minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

HTTP_REQUESTS = Counter(
    "citizencenter_http_requests_total", "Web requests answered, by route, method and status.",
    ("route", "method", "status"))
HTTP_DURATION = Histogram(
    "citizencenter_http_request_duration_seconds", "Time to answer a web request, by route.",
    ("route", "method"), buckets=REQUEST_BUCKETS)
TASKS = Counter(
    "citizencenter_celery_tasks_total", "Celery task runs, by task name and outcome "
    "(success, failure, retry).", ("task", "outcome"))
TASK_DURATION = Histogram(
    "citizencenter_celery_task_duration_seconds", "Time a Celery task run took, by task name.",
    ("task",), buckets=TASK_BUCKETS)

# The route of a request no URL rule matched: its raw path may hold anything.
UNMATCHED = "(unmatched)"
# Any other method a client invents is "other": labels stay few whatever is sent.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """Count a web request under its URL rule (never its path: no ids, no personal data)."""
    route = route or UNMATCHED
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)


_started: dict[str, float] = {}


def task_started(task_id: str) -> None:
    _started[task_id] = time.perf_counter()


def task_finished(task_id: str, task_name: str, state: str | None) -> None:
    """Count a task run by its outcome: Celery's final state of the run, in lower case."""
    began = _started.pop(task_id, None)
    TASKS.labels(task_name, (state or "unknown").lower()).inc()
    if began is not None:
        TASK_DURATION.labels(task_name).observe(time.perf_counter() - began)
