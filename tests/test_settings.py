"""The typed settings: each bad value named in one clear line at start, never a traceback;
`citizencenter config check` shows the effective settings with secrets masked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from citizencenter import create_app
from citizencenter.config import ConfigError
from tests.conftest import ROOT, TEST_SECRET_KEY

CLI = str(Path(sys.executable).parent / "citizencenter")
PRODUCTION = {"DATABASE_URL": "postgresql+psycopg://citizencenter:pg-pass-1234@db.internal/cc",
              "REDIS_URL": "redis://redis.internal:6379/0", "SECRET_KEY": TEST_SECRET_KEY,
              "PUBLIC_BASE_URL": "https://kontaktcenter.lund.example"}
NAMES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL", "ALLOW_EMBEDDED")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in NAMES}
    environment.update(env)
    return subprocess.run([CLI, *args], env=environment, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_config_check_shows_the_effective_settings_with_secrets_masked():
    result = _run("config", "check", **PRODUCTION, SMTP_PASSWORD="smtp-pass-5678",
                  WEB_WORKERS="6")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "WEB_WORKERS=6" in lines and "SECRET_KEY=(set, masked)" in lines
    assert "SMTP_PASSWORD=(set, masked)" in lines and "TWILIO_AUTH_TOKEN=(unset)" in lines
    assert "DATABASE_URL=postgresql+psycopg://citizencenter:***@db.internal/cc" in lines
    for secret in ("pg-pass-1234", "smtp-pass-5678", TEST_SECRET_KEY):
        assert secret not in result.stdout + result.stderr


def test_config_check_names_each_bad_value_and_exits_non_zero():
    result = _run("config", "check", **{
        **PRODUCTION, "WEB_WORKERS": "four", "PUBLIC_BASE_URL": "kontaktcenter.lund.example",
        "REDIS_URL": "http://redis:6379", "PHONE_SERVICE_LEVEL_FORMULA": "sometimes",
        "IMAP_SSL": "maybe", "TRUSTED_PROXIES": "10.0.0.1, proxy.internal",
        "WEB_THREADS": "0"})
    assert result.returncode == 2
    problems = result.stderr.splitlines()
    assert problems == [
        "citizencenter: REDIS_URL=http://redis:6379 is not a redis or rediss or unix URL",
        "citizencenter: PUBLIC_BASE_URL=kontaktcenter.lund.example is not a http or https URL",
        "citizencenter: IMAP_SSL=maybe is not 1 or 0",
        "citizencenter: PHONE_SERVICE_LEVEL_FORMULA=sometimes is not one of offered, "
        "answered, answered_and_abandoned",
        "citizencenter: TRUSTED_PROXIES=10.0.0.1, proxy.internal has 'proxy.internal' is "
        "not an address or network",
        "citizencenter: WEB_WORKERS=four is not a whole number",
        "citizencenter: WEB_THREADS=0 is below 1",
    ]


def test_a_worker_with_a_bad_value_stops_with_the_message_not_a_traceback():
    environment = {**os.environ, **PRODUCTION, "SMTP_PORT": "twenty-five"}
    result = subprocess.run([sys.executable, "-c", "import workers.celery_app"],
                            env=environment, cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "citizencenter: SMTP_PORT=twenty-five is not a whole number"


def test_create_app_checks_the_values_it_is_given(database_url, redis_server):
    with pytest.raises(ConfigError, match=r"^citizencenter: PAGE_SIZE_MAX=lots is not a whole "
                       r"number\ncitizencenter: FEEDBACK_SMS=pigeon is not one of none, outbox$"):
        create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
                    "SECRET_KEY": TEST_SECRET_KEY, "TESTING": True,
                    "PAGE_SIZE_MAX": "lots", "FEEDBACK_SMS": "pigeon"})


@pytest.mark.parametrize(("env", "allow", "message"), [
    ({"DATABASE_URL": "sqlite:////tmp/cc.db"}, False, "DATABASE_URL is SQLite"),
    ({"REDIS_URL": None}, False, "REDIS_URL is not set"),
    ({"SECRET_KEY": None}, False, "SECRET_KEY is not set"),
    ({"PUBLIC_BASE_URL": None}, False, "PUBLIC_BASE_URL is not set"),
    ({"DATABASE_URL": "sqlite:////tmp/cc.db", "SECRET_KEY": None}, True, "SECRET_KEY is not"),
    ({"WEB_WORKERS": "many"}, False, "WEB_WORKERS=many is not a whole number"),
])
def test_the_production_run_refuses_unsafe_settings_in_one_line(env, allow, message):
    settings = {k: v for k, v in {**PRODUCTION, **env}.items() if v is not None}
    result = _run("production", "run", *(["--allow-embedded"] if allow else []), **settings)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"citizencenter: {message}")


def test_allowed_embedded_settings_give_the_procfile():
    result = _run("production", "procfile", "--allow-embedded",
                  **{**PRODUCTION, "DATABASE_URL": "sqlite:////tmp/cc.db"})
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == \
        ["web", "worker", "calls", "beat"]
