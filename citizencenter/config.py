"""Settings from the environment, with defaults for the embedded single-machine run."""

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from citizencenter import keys, settings

INSTANCE_DIR = Path(os.environ.get("CITIZENCENTER_INSTANCE", Path.cwd() / "instance"))


def _int(name: str, default: int, minimum: int = 0) -> int:
    return settings.declare(name, default, "int", minimum=minimum)


def _text(name: str, default: str = "", secret: bool = False) -> str:
    return settings.declare(name, default, "text", secret=secret)


def _flag(name: str, default: bool | None) -> bool | None:
    return settings.declare(name, default, "flag")


def _choice(name: str, default: str, *choices: str) -> str:
    return settings.declare(name, default, "choice", choices=choices)


def _url(name: str, default: str, *schemes: str) -> str:
    return settings.declare(name, default, "url", schemes=schemes)


class ConfigError(SystemExit):
    """A setting that makes starting unsafe; uncaught, it exits with its one-line message."""

    def __init__(self, message: str):
        super().__init__(f"citizencenter: {message}")


def is_embedded(config) -> bool:
    """SQLite is the embedded single-machine run; production runs on PostgreSQL."""
    return config["DATABASE_URL"].startswith("sqlite")


def validate(config) -> None:
    """Fill in the embedded run's key and refuse to start with unsafe or bad settings."""
    bad = settings.problems(config)
    if bad:
        raise ConfigError("\ncitizencenter: ".join(bad))
    if not config.get("SECRET_KEY") and is_embedded(config):
        config["SECRET_KEY"] = keys.embedded_secret_key(INSTANCE_DIR)
    try:
        keys.check_strong(config.get("SECRET_KEY", ""))
    except keys.WeakSecretKey as exc:
        raise ConfigError(f"{exc}; e.g. SECRET_KEY=$(python -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))')") from None
    zone = config.get("TIMEZONE", Config.TIMEZONE)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE {zone!r} is not a known time zone, "
                          "e.g. Europe/Stockholm") from None
    if not is_embedded(config) and not config.get("TESTING") \
            and not config.get("PUBLIC_BASE_URL"):
        raise ConfigError("PUBLIC_BASE_URL is not set; give the address citizens and "
                          "integrations reach this service at, e.g. https://mc.lund.se")


_local_zone: list[ZoneInfo] = []


def use_timezone(name: str) -> None:
    """Make `name` the zone local_zone() answers; create_app sets its TIMEZONE."""
    _local_zone[:] = [ZoneInfo(name)]


def local_zone() -> ZoneInfo:
    """The zone of local days and hours (references, reports, routing hours): TIMEZONE."""
    if not _local_zone:
        use_timezone(Config.TIMEZONE)
    return _local_zone[0]


class Config:
    DATABASE_URL = _url("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'citizencenter.db'}",
                        "sqlite", "postgresql")
    REDIS_URL = _url("REDIS_URL", "redis://127.0.0.1:6379/0", "redis", "rediss", "unix")
    # Unset in the embedded run: then read from (or made into) instance/secret_key.
    SECRET_KEY = _text("SECRET_KEY", secret=True)
    # Older keys during a rotation, comma-separated: they still decrypt and verify.
    SECRET_KEY_FALLBACKS = _text("SECRET_KEY_FALLBACKS", secret=True)
    TIMEZONE = _text("TIMEZONE", "Europe/Stockholm")
    # National numbers ("046-35 50 00") are read as numbers of this region (ISO 3166).
    PHONE_DEFAULT_REGION = _text("PHONE_DEFAULT_REGION", "SE")

    # JSON bodies larger than this are refused with 413 before they are parsed.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    PAGE_SIZE_DEFAULT = _int("PAGE_SIZE_DEFAULT", 25)
    PAGE_SIZE_MAX = _int("PAGE_SIZE_MAX", 100)
    CURSOR_MAX_AGE_S = _int("CURSOR_MAX_AGE_S", 24 * 3600)
    IDEMPOTENCY_TTL_S = _int("IDEMPOTENCY_TTL_S", 24 * 3600)
    # An in-flight idempotency key older than this belongs to a crashed request.
    IDEMPOTENCY_LOCK_S = _int("IDEMPOTENCY_LOCK_S", 60)
    OUTBOX_BATCH = _int("OUTBOX_BATCH", 200)
    # Reconciliation (reconciliation.py): outbox work whose effect is still missing this
    # long after it was due is enqueued again; work older than the look-back is not sought.
    RECONCILE_INTERVAL_S = _int("RECONCILE_INTERVAL_S", 60)
    RECONCILE_GRACE_S = _int("RECONCILE_GRACE_S", 60)
    RECONCILE_LOOKBACK_H = _int("RECONCILE_LOOKBACK_H", 24)
    # Integration deliveries (batches of call events, raw e-mail) may be larger.
    MAX_INGEST_BYTES = _int("MAX_INGEST_BYTES", 4 * 1024 * 1024)
    # Where clients reach us; Twilio signs the URL it called, so behind a proxy set this.
    PUBLIC_BASE_URL = _url("PUBLIC_BASE_URL", "", "http", "https")
    TWILIO_AUTH_TOKEN = _text("TWILIO_AUTH_TOKEN", secret=True)

    # Outgoing mail (replies, acknowledgements, notifications).
    SMTP_HOST = _text("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_STARTTLS = _flag("SMTP_STARTTLS", False)
    SMTP_USERNAME = _text("SMTP_USERNAME", "")
    SMTP_PASSWORD = _text("SMTP_PASSWORD", secret=True)
    SMTP_TIMEOUT_S = _int("SMTP_TIMEOUT_S", 20)
    MAIL_FROM = _text("MAIL_FROM", "Medborgarcenter <kontaktcenter@lund.example>")
    MAIL_DOMAIN = _text("MAIL_DOMAIN", "lund.example")  # right side of Message-IDs
    # Where the embedded run's SMTP sink keeps what is sent (`citizencenter run` sets it);
    # set, /dev/mail shows that mail to signed-in staff; unset, /dev/mail does not exist.
    DEV_MAIL_DIR = _text("DEV_MAIL_DIR", "")

    # The e-mail channel (channels/email/, README "E-mail"). MAILBOXES is a JSON list of
    # {"name", "host", "port", "user", "password", "folder", "ssl", "processed_folder",
    # "quarantine_folder"}; without it the IMAP_* variables describe one mailbox.
    MAILBOXES = _text("MAILBOXES", secret=True)  # holds passwords
    IMAP_HOST = _text("IMAP_HOST", "")
    IMAP_PORT = _int("IMAP_PORT", 993)
    IMAP_USER = _text("IMAP_USER", "")
    IMAP_PASSWORD = _text("IMAP_PASSWORD", secret=True)
    IMAP_FOLDER = _text("IMAP_FOLDER", "INBOX")
    IMAP_SSL = _flag("IMAP_SSL", True)
    IMAP_POLL_INTERVAL_S = _int("IMAP_POLL_INTERVAL_S", 60)
    IMAP_TIMEOUT_S = _int("IMAP_TIMEOUT_S", 30)
    EMAIL_MAX_MESSAGE_BYTES = _int("EMAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)
    EMAIL_MAX_ATTACHMENT_BYTES = _int("EMAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
    EMAIL_REOPEN_DAYS = _int("EMAIL_REOPEN_DAYS", 30)  # later replies open a linked case
    EMAIL_ACK_INTERVAL_H = _int("EMAIL_ACK_INTERVAL_H", 24)  # one receipt per sender
    EMAIL_ACK_RESPONSE_TIME = _text(
        "EMAIL_ACK_RESPONSE_TIME", "Du får normalt svar från oss inom 24 timmar på vardagar.")
    EMAIL_OWN_ADDRESSES = _text("EMAIL_OWN_ADDRESSES", "")  # comma-separated
    # Signs outbound Message-IDs; the first signs, all are accepted (rotation). SECRET_KEY
    # when empty.
    EMAIL_SIGNING_SECRETS = _text("EMAIL_SIGNING_SECRETS", secret=True)

    # Telephony figures (DESIGN.md "SLA and the survey metrics").
    PHONE_SHORT_ABANDON_S = _int("PHONE_SHORT_ABANDON_S", 5)
    PHONE_SERVICE_LEVEL_THRESHOLDS_S = settings.declare(
        "PHONE_SERVICE_LEVEL_THRESHOLDS_S", (60, 120), "ints")
    PHONE_DIRECT_ANSWER_S = _int("PHONE_DIRECT_ANSWER_S", 120)
    # offered | answered | answered_and_abandoned (see reports/telephony.py)
    PHONE_SERVICE_LEVEL_FORMULA = _choice("PHONE_SERVICE_LEVEL_FORMULA", "offered", "offered",
                                          "answered", "answered_and_abandoned")
    CALLBACK_TARGET_MINUTES = _int("CALLBACK_TARGET_MINUTES", 120)  # working time
    # How often beat looks for SLA timers to warn about or breach (sla/service.py).
    SLA_SCAN_INTERVAL_S = _int("SLA_SCAN_INTERVAL_S", 30)

    # Routing (routing/): sticky to the citizen's last guide within this window; the beat
    # scan escalates and hands out waiting cases. A forwarded case's department target is
    # the department-resolution SLA policy (sla/), not a setting.
    ROUTING_STICKY_HOURS = _int("ROUTING_STICKY_HOURS", 168)
    # New cases a worker takes at once to start their SLA timers and route them.
    ROUTING_BATCH = _int("ROUTING_BATCH", 200)
    ROUTING_SCAN_INTERVAL_S = _int("ROUTING_SCAN_INTERVAL_S", 5)
    DEPARTMENT_WEBHOOK_TIMEOUT_S = _int("DEPARTMENT_WEBHOOK_TIMEOUT_S", 10)
    # After a rotation an integration's previous signing secret is accepted this long.
    INTEGRATION_SECRET_GRACE_S = _int("INTEGRATION_SECRET_GRACE_S", 24 * 3600)

    # Service measurement, rollups, feedback and the live dashboard (reports/, feedback/,
    # dashboard/). Targets: "channel.figure=value,…" overrides REPORT_TARGETS' defaults.
    EMAIL_ANSWER_WITHIN_HOURS = _int("EMAIL_ANSWER_WITHIN_HOURS", 24)
    REPEAT_CONTACT_DAYS = _int("REPEAT_CONTACT_DAYS", 7)
    COURTESY_COMPARABLE_N = _int("COURTESY_COMPARABLE_N", 100)
    REPORT_TARGETS = _text("REPORT_TARGETS", "")
    ROLLUP_REFRESH_S = _int("ROLLUP_REFRESH_S", 60)
    ROLLUP_OVERLAP_S = _int("ROLLUP_OVERLAP_S", 600)  # re-read rows this much older
    FEEDBACK_LINK_TTL_DAYS = _int("FEEDBACK_LINK_TTL_DAYS", 14)
    # The citizen's own view of a case (/mitt-arende/<token>, citizen_view/): how long the
    # link in an acknowledgement works, and how many messages a case takes from it per hour.
    CITIZEN_LINK_TTL_DAYS = _int("CITIZEN_LINK_TTL_DAYS", 90)
    CITIZEN_MESSAGE_RATE_LIMIT = _int("CITIZEN_MESSAGE_RATE_LIMIT", 10)
    FEEDBACK_SMS = _choice("FEEDBACK_SMS", "none", "none", "outbox")  # outbox: a test fake
    DASHBOARD_SNAPSHOT_S = _int("DASHBOARD_SNAPSHOT_S", 5)
    DASHBOARD_HEARTBEAT_S = _int("DASHBOARD_HEARTBEAT_S", 15)
    DASHBOARD_STREAM_MAX_S = _int("DASHBOARD_STREAM_MAX_S", 300)
    # Live streams hold a web thread each; past this many per process they get 503, so
    # the rest of the API keeps threads to answer with.
    DASHBOARD_STREAM_SLOTS = _int("DASHBOARD_STREAM_SLOTS", 2)
    # Retention (gallring): cases erased per transaction, batches per nightly run, and the
    # hour (UTC) the run starts; what a run leaves is erased the next night.
    RETENTION_BATCH_SIZE = _int("RETENTION_BATCH_SIZE", 100)
    RETENTION_MAX_BATCHES = _int("RETENTION_MAX_BATCHES", 100)
    RETENTION_RUN_HOUR_UTC = _int("RETENTION_RUN_HOUR_UTC", 1)

    # Social media (channels/social/): the app secret checks webhook signatures and signs
    # Graph API calls, the verify token answers Meta's subscription handshake, the page
    # token sends replies. A closed case of a conversation reopens within SOCIAL_REOPEN_DAYS.
    META_APP_SECRET = _text("META_APP_SECRET", secret=True)
    META_VERIFY_TOKEN = _text("META_VERIFY_TOKEN", secret=True)
    META_PAGE_ACCESS_TOKEN = _text("META_PAGE_ACCESS_TOKEN", secret=True)
    META_GRAPH_URL = _url("META_GRAPH_URL", "https://graph.facebook.com", "http", "https")
    META_GRAPH_VERSION = _text("META_GRAPH_VERSION", "v19.0")
    META_SEND_TIMEOUT_S = _int("META_SEND_TIMEOUT_S", 10)
    SOCIAL_REOPEN_DAYS = _int("SOCIAL_REOPEN_DAYS", 14)
    # on: a new Messenger/Instagram case gets a receipt with the link to the citizen's view.
    SOCIAL_ACKNOWLEDGE = _choice("SOCIAL_ACKNOWLEDGE", "off", "off", "on")
    # The public web form: at most this many inquiries per client address in a sliding
    # window; walk-ins resolved at the counter last this long unless the guide says.
    WEBFORM_RATE_LIMIT = _int("WEBFORM_RATE_LIMIT", 5)
    WEBFORM_RATE_WINDOW_S = _int("WEBFORM_RATE_WINDOW_S", 600)
    WALKIN_DEFAULT_MINUTES = _int("WALKIN_DEFAULT_MINUTES", 10)
    # Open311 GeoReport v2: the jurisdiction_id apps may give (the one this server serves),
    # and POST requests per api_key in a sliding window.
    OPEN311_JURISDICTION_ID = _text("OPEN311_JURISDICTION_ID", "lund.se")
    OPEN311_RATE_LIMIT = _int("OPEN311_RATE_LIMIT", 60)
    OPEN311_RATE_WINDOW_S = _int("OPEN311_RATE_WINDOW_S", 600)
    # The public knowledge API (the municipality's website, no token): requests per client
    # address in a sliding window, and how long a cache may keep an answer unasked.
    KNOWLEDGE_PUBLIC_RATE_LIMIT = _int("KNOWLEDGE_PUBLIC_RATE_LIMIT", 120)
    KNOWLEDGE_PUBLIC_RATE_WINDOW_S = _int("KNOWLEDGE_PUBLIC_RATE_WINDOW_S", 60)
    KNOWLEDGE_PUBLIC_MAX_AGE_S = _int("KNOWLEDGE_PUBLIC_MAX_AGE_S", 300)

    # The staff pages (web/): signed out after this long without a page load; the session
    # cookie is Secure outside the embedded run unless SESSION_COOKIE_SECURE says (1 or 0).
    # Sign-in locks an account or a client address out for the rest of the window after
    # this many failures.
    WEB_IDLE_TIMEOUT_S = _int("WEB_IDLE_TIMEOUT_S", 8 * 3600)
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", None)
    SIGNIN_MAX_FAILURES_ACCOUNT = _int("SIGNIN_MAX_FAILURES_ACCOUNT", 5)
    SIGNIN_MAX_FAILURES_ADDRESS = _int("SIGNIN_MAX_FAILURES_ADDRESS", 30)
    SIGNIN_LOCKOUT_WINDOW_S = _int("SIGNIN_LOCKOUT_WINDOW_S", 15 * 60)
    # Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For,
    # -Proto and -Host are believed (proxies.py); from any other peer they are ignored.
    TRUSTED_PROXIES = settings.declare("TRUSTED_PROXIES", (), "networks")
    # Log lines (logs.py): json, one object per line for a log shipper (the production run's
    # default), or text for a terminal (`make run`, the tests); at LOG_LEVEL and above.
    LOG_FORMAT = _choice("LOG_FORMAT", "text", "text", "json")
    LOG_LEVEL = _choice("LOG_LEVEL", "INFO", "DEBUG", "INFO", "WARNING", "ERROR")

    # The production run (`citizencenter production`, production.py). ALLOW_EMBEDDED=1 lets
    # it start on SQLite or an unset REDIS_URL, for a trial on one machine.
    WEB_BIND = _text("WEB_BIND", "0.0.0.0:8000")
    WEB_WORKERS = _int("WEB_WORKERS", 4, minimum=1)
    WEB_THREADS = _int("WEB_THREADS", 8, minimum=1)
    WEB_GRACEFUL_TIMEOUT_S = _int("WEB_GRACEFUL_TIMEOUT_S", 30, minimum=1)
    WORKER_PROCESSES = _int("WORKER_PROCESSES", 1, minimum=1)  # of the `celery` queue
    WORKER_CONCURRENCY = _int("WORKER_CONCURRENCY", 4, minimum=1)  # tasks at once in each
    CALLS_WORKER_CONCURRENCY = _int("CALLS_WORKER_CONCURRENCY", 1, minimum=1)
    # A task not acknowledged this long after delivery is delivered again: above the
    # longest task (an IMAP poll of a large mailbox, a rollup rebuild: minutes), far below
    # an hour; every task is idempotent, so a second delivery is harmless.
    CELERY_VISIBILITY_TIMEOUT_S = _int("CELERY_VISIBILITY_TIMEOUT_S", 3600, minimum=60)
    # The Asterisk queue_log to follow (a `calls` line in the run); unset: no follower.
    QUEUE_LOG_FILE = _text("QUEUE_LOG_FILE", "")
    ALLOW_EMBEDDED = _flag("ALLOW_EMBEDDED", False)
    # GET /metrics (metrics/): answered to these addresses and networks, or to a request
    # with `Authorization: Bearer METRICS_TOKEN`; anyone else gets 404.
    METRICS_ALLOWED_NETWORKS = settings.declare("METRICS_ALLOWED_NETWORKS",
                                                ("127.0.0.0/8", "::1"), "networks")
    METRICS_TOKEN = _text("METRICS_TOKEN", secret=True)

    # flask-smorest / OpenAPI
    API_TITLE = "citizencenter"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # /api/v1/docs is Swagger UI vendored into web/static (web/api_docs.py), not a CDN's.
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearerAuth": []}],
        "info": {
            "description": "Cases, channels, routing and service levels of the "
            "citizen service centre. Errors are RFC 9457 application/problem+json."
        },
    }
    TESTING = False
