"""SECRET_KEY: refused when weak, made for the embedded run, derived per purpose, rotated."""

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet, InvalidToken
from flask.cli import ScriptInfo
from sqlalchemy import select

from citizencenter import keys
from citizencenter.accounts.models import Department
from citizencenter.cli import cli
from citizencenter.config import ConfigError, validate
from citizencenter.integrations import service as integrations
from citizencenter.integrations.models import Integration
from citizencenter.routing import notifications
from tests.channels.phone.helpers import post_events
from tests.conftest import ROOT

KEY_A = "key-a-" + "a" * 40
KEY_B = "key-b-" + "b" * 40
POSTGRES = "postgresql+psycopg://u:p@127.0.0.1:5432/db"


def _env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "PUBLIC_BASE_URL")}
    env.update(overrides)
    return env


@pytest.mark.parametrize("secret_key", ["", "dev-only-change-me", "short-but-random-Xq9",
                                        "test-secret"])
def test_production_refuses_a_missing_weak_or_known_key(secret_key):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        validate({"DATABASE_URL": POSTGRES, "SECRET_KEY": secret_key,
                  "PUBLIC_BASE_URL": "https://mc.lund.example"})


def test_production_requires_the_public_base_url():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        validate({"DATABASE_URL": POSTGRES, "SECRET_KEY": KEY_A, "PUBLIC_BASE_URL": ""})
    validate({"DATABASE_URL": POSTGRES, "SECRET_KEY": KEY_A,
              "PUBLIC_BASE_URL": "https://mc.lund.example"})


def test_refusal_is_one_line_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from citizencenter.cli import main; main()", "rotate-keys"],
        cwd=ROOT, env=_env(DATABASE_URL=POSTGRES, SECRET_KEY="dev-only-change-me",
                           CITIZENCENTER_INSTANCE=str(tmp_path)),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("citizencenter: SECRET_KEY is too weak")


def test_embedded_run_makes_a_private_key_once(tmp_path):
    instance = tmp_path / "instance"
    show = ("from citizencenter import create_app; "
            "print(create_app().config['SECRET_KEY'])")
    env = _env(CITIZENCENTER_INSTANCE=str(instance))
    first = subprocess.run([sys.executable, "-c", show], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 48 and key == (instance / "secret_key").read_text().strip()
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "citizencenter.db").stat().st_mode) == 0o600
    again = subprocess.run([sys.executable, "-c", show], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.stdout.strip() == key


def test_each_purpose_has_its_own_key():
    derived = {p: keys.derive(KEY_A, p) for p in
               ("secrets-at-rest", "cursors", "message-ids", "feedback-links", "ratelimit-hash")}
    assert len(set(derived.values())) == len(derived)
    assert KEY_A.encode() not in derived.values()
    assert keys.derive(KEY_B, "cursors") != derived["cursors"]


def _legacy_box(label: bytes, secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(
        hashlib.sha256(label + b"\0" + secret_key.encode()).digest()))


def _event(n: int) -> dict:
    return {"event_id": f"rot-{n}", "source": "pbx", "type": "call.queued",
            "occurred_at": "2026-11-18T09:00:00+01:00", "sequence": n, "call_id": f"rot-{n}",
            "queue": "kontaktcenter", "metrics": {}}


def test_rotation_keeps_webhooks_verifying_and_the_database_alone_reveals_nothing(
        app, session, client, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", KEY_A)
    _, token, secret = integrations.create_integration(
        session, "växeln-rotation", ["calls:write"], keys.secret_keys(app.config))
    hook_secret = notifications.set_webhook(session, "tekniska", "https://x.example/hook",
                                            keys.secret_keys(app.config))
    integration = session.scalar(select(Integration).where(Integration.name == "växeln-rotation"))
    stored = integration.secrets_encrypted
    assert secret not in stored
    assert post_events(client, (token, secret), _event(1)).status_code == 202

    # The database alone: neither the old default key nor any other key opens it.
    for guess in ("dev-only-change-me", KEY_B):
        with pytest.raises(InvalidToken):
            keys.box(guess, legacy_label=integrations.LEGACY_LABEL).decrypt(stored.encode())

    # Restarted with key B, A kept as a fallback: deliveries still verify.
    monkeypatch.setitem(app.config, "SECRET_KEY", KEY_B)
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", KEY_A)
    assert post_events(client, (token, secret), _event(2)).status_code == 202

    result = CliRunner().invoke(cli, ["rotate-keys"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "1 department webhooks" in result.output
    session.refresh(integration)
    assert integration.secrets_encrypted != stored

    # Without the fallback: still verifies; key A alone opens nothing any more.
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", "")
    assert post_events(client, (token, secret), _event(3)).status_code == 202
    with pytest.raises(integrations.IntegrationError):
        integrations.signing_secrets(integration, KEY_A)
    department = session.scalar(select(Department).where(Department.slug == "tekniska"))
    assert keys.box(KEY_B).decrypt(
        department.webhook_secret_encrypted.encode()).decode() == hook_secret


def test_secrets_sealed_before_derived_keys_still_open_and_rotate(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", KEY_A)
    integration, _, _ = integrations.create_integration(
        session, "växeln-legacy", ["calls:write"], KEY_A)
    legacy = _legacy_box(integrations.LEGACY_LABEL, KEY_A)
    integration.secrets_encrypted = legacy.encrypt(json.dumps(["old-secret"]).encode()).decode()
    session.commit()
    assert integrations.signing_secrets(integration, KEY_A) == ["old-secret"]

    integrations.reencrypt_secrets(session, [KEY_A])
    with pytest.raises(InvalidToken):
        legacy.decrypt(integration.secrets_encrypted.encode())
    assert json.loads(keys.box(KEY_A).decrypt(integration.secrets_encrypted.encode())) \
        == ["old-secret"]
