"""Integrations: their tokens, their webhook secrets and the check of each delivery."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from citizencenter import keys
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import ApiToken
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.db import delete_in_slices, utcnow
from citizencenter.errors import AppError, Forbidden, InvalidInput, NotFound
from citizencenter.integrations import signatures
from citizencenter.integrations.models import Integration, WebhookDelivery

DEFAULT_GRACE_S = 24 * 3600  # INTEGRATION_SECRET_GRACE_S
NAME_MAX = 100


class IntegrationError(AppError):
    status, title, slug = 422, "Invalid integration", "invalid-integration"


LEGACY_LABEL = b"citizencenter/integration-secrets"  # how secrets were sealed before HKDF


def _box(secret_keys: keys.SecretKeys) -> keys.SecretBox:
    return keys.SecretBox(secret_keys, legacy_label=LEGACY_LABEL)


def _seal(secret_keys: keys.SecretKeys, secrets: list[str]) -> str:
    return _box(secret_keys).seal(json.dumps(secrets))


def signing_secrets(integration: Integration, secret_keys: keys.SecretKeys) -> list[str]:
    try:
        return json.loads(_box(secret_keys).open(integration.secrets_encrypted))
    except InvalidToken:
        raise IntegrationError("The integration's secrets cannot be read with this "
                               "SECRET_KEY or SECRET_KEY_FALLBACKS.") from None


def reencrypt_secrets(session: Session, secret_keys: keys.SecretKeys) -> int:
    """Seal every integration's secrets under the current key; returns how many."""
    sealed = _box(secret_keys).reseal_column(session, Integration.secrets_encrypted)
    session.commit()
    return sealed


def create_integration(session: Session, name: str, scopes: list[str],
                       secret_keys: keys.SecretKeys, *, actor: str = "system"
                       ) -> tuple[Integration, str, str]:
    """Register an integration; returns it with its bearer token and signing secret."""
    if session.scalar(select(Integration).where(Integration.name == name)):
        raise IntegrationError(f"An integration named {name!r} exists.")
    token, bearer = accounts.create_token(session, f"integration {name}", scopes=scopes,
                                          actor=actor)
    secret = signatures.new_secret()
    integration = Integration(name=name, token=token,
                              secrets_encrypted=_seal(secret_keys, [secret]))
    session.add(integration)
    session.flush()
    audit.record(session, actor, "integration.created", "integration", integration.id,
                 new={"name": name, "scopes": sorted(set(scopes)), "token_id": token.id,
                      "secret": audit.fingerprint(secret)})
    session.commit()
    return integration, bearer, secret


def _by_name(session: Session, name: str) -> Integration:
    integration = session.scalar(select(Integration).where(Integration.name == name))
    if integration is None:
        raise NotFound(f"No integration named {name!r}.")
    return integration


@dataclass
class Rotation:
    secret: str  # shown once
    previous_valid_until: datetime | None


def rotate_secret(session: Session, name: str, secret_keys: keys.SecretKeys, *,
                  actor: str = "system", grace_s: int = DEFAULT_GRACE_S,
                  now: datetime | None = None) -> str:
    """Issue a new signing secret; the previous one stays valid for `grace_s` seconds."""
    return rotate(session, name, secret_keys, actor=actor, grace_s=grace_s, now=now).secret


def rotate(session: Session, name: str, secret_keys: keys.SecretKeys, *,
           actor: str = "system", grace_s: int = DEFAULT_GRACE_S,
           now: datetime | None = None) -> Rotation:
    """Issue a new signing secret; the previous one is accepted for `grace_s` seconds more,
    then refused. Earlier secrets are dropped at once."""
    integration = _by_name(session, name)
    now = now or utcnow()
    secret = signatures.new_secret()
    current = signing_secrets(integration, secret_keys)
    integration.secrets_encrypted = _seal(secret_keys, [secret, *current[:1]])
    integration.rotated_at = now
    integration.previous_secret_valid_until = now + timedelta(seconds=grace_s)
    audit.record(session, actor, "integration.secret_rotated", "integration", integration.id,
                 old={"secrets": [audit.fingerprint(s) for s in current[:2]]},
                 new={"secrets": [audit.fingerprint(s) for s in (secret, *current[:1])],
                      "previous_valid_until":
                          integration.previous_secret_valid_until.isoformat()})
    session.commit()
    return Rotation(secret, integration.previous_secret_valid_until)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def valid_secrets(integration: Integration, secret_keys: keys.SecretKeys,
                  now: datetime) -> list[str]:
    """The current secret and, within its grace period, the one before it."""
    secrets_ = signing_secrets(integration, secret_keys)
    until = integration.previous_secret_valid_until
    if until is not None and now >= _aware(until):
        return secrets_[:1]
    return secrets_


@dataclass
class IntegrationView:
    integration: Integration
    scopes: list[str]
    deliveries: list[WebhookDelivery]


def list_integrations(session: Session, principal: Principal, *,
                      deliveries: int = 5) -> list[IntegrationView]:
    """Every integration with its scopes, its token's last use, secret state, failures and
    last deliveries."""
    principal.require("integrations:write")
    views = []
    for integration in session.scalars(
            select(Integration).order_by(Integration.name)
            .options(joinedload(Integration.token).undefer(ApiToken.last_used_at))):
        recent = list(session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.integration_id == integration.id)
            .order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
            .limit(deliveries)))
        views.append(IntegrationView(integration, sorted(integration.token.scopes or []),
                                     recent))
    return views


def create(session: Session, principal: Principal, name: str, scopes: list[str],
           secret_keys: keys.SecretKeys) -> tuple[Integration, str, str]:
    """An administrator registers an integration: its token and secret are shown once."""
    principal.require("integrations:write")
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidInput("name", f"Give a name of 1 to {NAME_MAX} characters.")
    scopes = sorted({s.strip() for s in scopes if s and s.strip()})
    if not scopes:
        raise InvalidInput("scopes", "Give at least one scope.")
    if "*" in scopes:
        raise InvalidInput("scopes", "An integration cannot hold every scope.")
    if session.scalar(select(Integration.id).where(Integration.name == name)):
        raise InvalidInput("name", f"An integration named {name!r} exists.")
    return create_integration(session, name, scopes, secret_keys, actor=principal.actor)


def rotate_for(session: Session, principal: Principal, name: str,
               secret_keys: keys.SecretKeys, grace_s: int, *,
               now: datetime | None = None) -> Rotation:
    """An administrator rotates an integration's signing secret."""
    principal.require("integrations:write")
    return rotate(session, name, secret_keys, actor=principal.actor, grace_s=grace_s, now=now)


@dataclass
class Delivery:
    integration: Integration
    replayed: bool
    record: WebhookDelivery | None = None


def accept_delivery(session: Session, principal: Principal, secret_keys: keys.SecretKeys,
                    webhook_id: str | None, timestamp: str | None, signature: str | None,
                    body: bytes, *, now: datetime | None = None) -> Delivery:
    """Check a signed delivery from the caller's integration and note its webhook-id.

    The id is only flushed: it commits with the events it carried. A replayed id is
    reported, never applied twice. A refused signature is counted on the integration
    (when and why, nothing of the body) and committed before the refusal is raised.
    """
    integration = session.scalar(select(Integration)
                                 .where(Integration.token_id == principal.token_id))
    if integration is None:
        raise Forbidden("This token does not belong to an integration.")
    now = now or utcnow()
    try:
        signatures.verify(valid_secrets(integration, secret_keys, now), webhook_id, timestamp,
                          signature, body, now=now.timestamp())
    except (signatures.SignatureMissing, signatures.SignatureInvalid) as exc:
        integration_id = integration.id
        session.rollback()
        integration = session.get(Integration, integration_id)
        integration.signature_failures = (integration.signature_failures or 0) + 1
        integration.last_signature_failure_at = now
        integration.last_signature_failure = exc.slug
        session.commit()
        raise
    seen = session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.integration_id == integration.id,
        WebhookDelivery.webhook_id == webhook_id))
    if seen is not None:
        return Delivery(integration, replayed=True)
    record = WebhookDelivery(integration_id=integration.id, webhook_id=webhook_id,
                             received_at=now)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return Delivery(integration, replayed=True)
    integration.last_event_at = now
    return Delivery(integration, replayed=False, record=record)


def note_event_type(delivery: Delivery, event_type: str | None) -> None:
    """Remember which kind of event a delivery carried (its last one), for the overview."""
    if delivery.record is not None and event_type:
        delivery.record.event_type = event_type[:64]


def purge_deliveries(session: Session, older_than: timedelta = timedelta(days=2)) -> int:
    """Ids older than the signature tolerance can no longer be replayed."""
    return delete_in_slices(session, WebhookDelivery,
                            WebhookDelivery.received_at < utcnow() - older_than)
