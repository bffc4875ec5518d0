"""The Celery application, configured from the web application's settings."""

import pkgutil

from celery import Celery, Task
from kombu import Queue

from citizencenter import create_app
from citizencenter.outbox import QUEUES, TASK_QUEUES
from workers import tasks
from workers.schedule import beat_schedule


def make_celery(flask_app=None) -> Celery:
    flask_app = flask_app or create_app()

    class AppContextTask(Task):
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                return self.run(*args, **kwargs)

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
        # Longer than any task runs; ETAs are never used (due times live in the database).
        broker_transport_options={"visibility_timeout": 3600},
        beat_schedule=beat_schedule,
        task_queues=[Queue(name) for name in QUEUES],
        task_routes={task: {"queue": queue} for task, queue in TASK_QUEUES.items()},
        imports=[f"workers.tasks.{m.name}" for m in pkgutil.iter_modules(tasks.__path__)],
    )
    celery.set_default()
    flask_app.extensions["celery"] = celery
    return celery


app = make_celery()
