"""The production run: the Procfile honcho starts, chosen from the settings, and the
checks that refuse a start which would lose data or cannot serve citizens' links."""

import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from citizencenter import settings
from citizencenter.config import INSTANCE_DIR

# gunicorn's factory syntax: nothing depends on the working directory (wsgi.py is not
# installed by `pip install .`).
WEB_APP = "citizencenter:create_served_app()"
ASTERISK_PATH = "/api/v1/integrations/calls/asterisk"
# A dead worker's metrics files are marked (metrics/gunicorn_hooks.py).
GUNICORN_SETTINGS = "python:citizencenter.metrics.gunicorn_hooks"
# gunicorn's own lines in LOG_FORMAT, masked, the access line with its request id.
GUNICORN_LOGGER = "citizencenter.logs.GunicornLogger"
# Settings whose production default differs from the embedded run's: a log shipper reads
# one JSON object per line. Set in the environment, they are left as given.
DEFAULTS = {"LOG_FORMAT": "json"}


def refusal(config: Mapping, environ: Mapping[str, str], allow_embedded: bool) -> str | None:
    """Why the production shape must not start with these settings, or None."""
    bad = settings.problems(config)
    if bad:
        return bad[0]
    allow_embedded = allow_embedded or bool(config.get("ALLOW_EMBEDDED"))
    if not allow_embedded and str(config["DATABASE_URL"]).startswith("sqlite"):
        return ("DATABASE_URL is SQLite, the embedded run's database; give PostgreSQL "
                "(postgresql+psycopg://…) or --allow-embedded for a trial on one machine")
    if not allow_embedded and not environ.get("REDIS_URL"):
        return ("REDIS_URL is not set; give the shared Redis (redis://host:6379/0) "
                "or --allow-embedded for a trial with one on this machine")
    if not config.get("SECRET_KEY"):
        return ("SECRET_KEY is not set; e.g. SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')")
    if not config.get("PUBLIC_BASE_URL"):
        return ("PUBLIC_BASE_URL is not set; give the address citizens reach this "
                "service at, e.g. https://kontaktcenter.lund.example")
    return None


def _bin(name: str) -> str:
    """A console script of this installation, whatever PATH the process manager has."""
    script = Path(sys.executable).parent / name
    return str(script) if script.exists() else name


def mailboxes_configured(config: Mapping) -> bool:
    return bool(config.get("MAILBOXES") or config.get("IMAP_HOST"))


def procfile(config: Mapping, instance: Path = INSTANCE_DIR) -> str:
    """The Procfile of the production shape for these settings.

    One beat, always: a second would schedule every periodic task twice. The call events
    have a worker of their own (queue `calls`), so a burst of cases never delays them.
    Lines for the queue-log follower and the IMAP poller only where they are configured,
    since honcho starts every line it is given.
    """
    python, q = shlex.quote(sys.executable), shlex.quote
    # --quiet: the start banner is printed, not logged; in JSON it would be stray lines.
    quiet = " --quiet" if config.get("LOG_FORMAT") == "json" else ""
    celery = f"{python} -m celery{quiet} -A workers.celery_app"
    # Several `worker` processes (honcho -c worker=N) need names of their own: PORT differs.
    lines = {
        "web": f"{python} -m gunicorn --bind {q(config['WEB_BIND'])} "
               f"--workers {config['WEB_WORKERS']} --threads {config['WEB_THREADS']} "
               f"--graceful-timeout {config['WEB_GRACEFUL_TIMEOUT_S']} "
               f"--access-logfile - --logger-class {GUNICORN_LOGGER} "
               f"--config {q(GUNICORN_SETTINGS)} {q(WEB_APP)}",
        "worker": f"{celery} worker -Q celery --concurrency {config['WORKER_CONCURRENCY']} "
                  f"--hostname worker-$PORT@%h --loglevel {config['LOG_LEVEL']}",
        "calls": f"{celery} worker -Q calls --concurrency {config['CALLS_WORKER_CONCURRENCY']} "
                 f"--hostname calls-$PORT@%h --loglevel {config['LOG_LEVEL']}",
        "beat": f"{celery} beat --loglevel {config['LOG_LEVEL']} "
                f"--schedule {q(str(instance / 'celerybeat-schedule'))}",
    }
    if config.get("QUEUE_LOG_FILE"):
        # The token and signing secret come from CITIZENCENTER_TOKEN and
        # CITIZENCENTER_WEBHOOK_SECRET in the environment, never from the command line.
        url = str(config["PUBLIC_BASE_URL"]).rstrip("/") + ASTERISK_PATH
        lines["follower"] = (f"{q(_bin('citizencenter'))} follow-queue-log "
                             f"--file {q(config['QUEUE_LOG_FILE'])} --url {q(url)}")
    if mailboxes_configured(config):
        lines["mail"] = f"{q(_bin('citizencenter'))} poll-mailbox"
    # exec: the line's process is the program itself, not a shell that would not pass
    # SIGTERM on.
    return "".join(f"{name}: exec {command}\n" for name, command in lines.items())


def start_honcho(procfile: Path, config: Mapping) -> None:
    """Run `honcho start` on the Procfile in this process, as the process manager.

    Two of honcho's habits are changed for a graceful stop. It sends SIGTERM to each
    line's whole process group; a Celery pool child or gunicorn worker killed that way
    drops its task or request, so SIGTERM goes to the line's main process alone, which
    stops its children in order (systemd's KillMode=mixed). And it sends SIGKILL 5 s
    after the first line exits; the web server's graceful timeout needs longer.
    """
    import contextlib
    import os
    import signal

    import honcho.manager
    from honcho.command import main as honcho_main
    from honcho.compat import ProcessManager

    class MainProcessFirst(ProcessManager):
        def terminate(self, pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)

    honcho.manager.ProcessManager = MainProcessFirst
    honcho.manager.KILL_WAIT = config["WEB_GRACEFUL_TIMEOUT_S"] + 10
    honcho_main(["start", "--no-colour", "-f", str(procfile), "-d", str(procfile.parent),
                 "-c", f"worker={config['WORKER_PROCESSES']}"])
