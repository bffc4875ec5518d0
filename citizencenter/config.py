"""Settings from the environment, with defaults for the embedded single-machine run."""

import os
from pathlib import Path

INSTANCE_DIR = Path(os.environ.get("CITIZENCENTER_INSTANCE", Path.cwd() / "instance"))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    DATABASE_URL = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'citizencenter.db'}"
    )
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Stockholm")

    # JSON bodies larger than this are refused with 413 before they are parsed.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    PAGE_SIZE_DEFAULT = _int("PAGE_SIZE_DEFAULT", 25)
    PAGE_SIZE_MAX = _int("PAGE_SIZE_MAX", 100)
    CURSOR_MAX_AGE_S = _int("CURSOR_MAX_AGE_S", 24 * 3600)
    IDEMPOTENCY_TTL_S = _int("IDEMPOTENCY_TTL_S", 24 * 3600)
    # An in-flight idempotency key older than this belongs to a crashed request.
    IDEMPOTENCY_LOCK_S = _int("IDEMPOTENCY_LOCK_S", 60)
    OUTBOX_BATCH = _int("OUTBOX_BATCH", 200)
    # Integration deliveries (batches of call events, raw e-mail) may be larger.
    MAX_INGEST_BYTES = _int("MAX_INGEST_BYTES", 4 * 1024 * 1024)
    # Where clients reach us; Twilio signs the URL it called, so behind a proxy set this.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")

    # Outgoing mail (replies, acknowledgements, notifications).
    SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_TIMEOUT_S = _int("SMTP_TIMEOUT_S", 20)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Medborgarcenter <kontaktcenter@lund.example>")
    MAIL_DOMAIN = os.environ.get("MAIL_DOMAIN", "lund.example")  # right side of Message-IDs

    # Telephony figures (DESIGN.md "SLA and the survey metrics").
    PHONE_SHORT_ABANDON_S = _int("PHONE_SHORT_ABANDON_S", 5)
    PHONE_SERVICE_LEVEL_THRESHOLDS_S = tuple(
        int(t) for t in os.environ.get("PHONE_SERVICE_LEVEL_THRESHOLDS_S", "60,120").split(","))
    PHONE_DIRECT_ANSWER_S = _int("PHONE_DIRECT_ANSWER_S", 120)
    # offered | answered | answered_and_abandoned (see reports/telephony.py)
    PHONE_SERVICE_LEVEL_FORMULA = os.environ.get("PHONE_SERVICE_LEVEL_FORMULA", "offered")
    CALLBACK_TARGET_MINUTES = _int("CALLBACK_TARGET_MINUTES", 120)  # working time

    # flask-smorest / OpenAPI
    API_TITLE = "citizencenter"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = os.environ.get(
        "OPENAPI_SWAGGER_UI_URL", "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
    )
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
    JSON_SORT_KEYS = False
    TESTING = False
