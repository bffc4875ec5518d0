"""The Celery application, configured from the web application's settings."""

import pkgutil

from celery import Celery, Task, signals
from kombu import Queue

from citizencenter import create_app, db, settle_after_start
from citizencenter.outbox import QUEUES, TASK_QUEUES
from workers import logs, metrics, tasks
from workers.schedule import beat_schedule


def make_celery(flask_app=None) -> Celery:
    flask_app = flask_app or create_app()

    class AppContextTask(Task):
        """Every task runs in the app's context and hands its session back when done.

        The session is removed after the run however it ends (returned, raised, retried),
        here and again by the app context's teardown, so a task body never needs its own
        try/finally for it; a task that still works with the session in an except clause
        (rollback, then give up) does so before the run ends.
        """

        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery = Celery("citizencenter", task_cls=AppContextTask)
    celery.conf.update(
        broker_url=flask_app.config["REDIS_URL"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        # A task in flight when its worker died (SIGKILL, power) is delivered again this
        # long after it was taken: longer than any task runs (the longest, an IMAP poll
        # or a rollup rebuild, take minutes). ETAs are never used (due times live in the
        # database), so a long timeout delays nothing else.
        broker_transport_options={
            "visibility_timeout": flask_app.config["CELERY_VISIBILITY_TIMEOUT_S"]},
        beat_schedule=beat_schedule(flask_app.config),
        task_queues=[Queue(name) for name in QUEUES],
        task_routes={task: {"queue": queue} for task, queue in TASK_QUEUES.items()},
        imports=[f"workers.tasks.{m.name}" for m in pkgutil.iter_modules(tasks.__path__)],
    )
    celery.set_default()
    logs.connect(flask_app.config)
    metrics.connect()
    # Each pool process, once forked with the app loaded (see settle_after_start).
    signals.worker_process_init.connect(lambda **_: settle_after_start(), weak=False,
                                        dispatch_uid="citizencenter.settle")
    flask_app.extensions["celery"] = celery
    return celery


app = make_celery()
