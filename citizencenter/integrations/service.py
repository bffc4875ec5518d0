"""Integrations: their tokens, their webhook secrets and the check of each delivery."""

import json
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from citizencenter import keys
from citizencenter.accounts import service as accounts
from citizencenter.accounts.service import Principal
from citizencenter.audit import service as audit
from citizencenter.db import delete_in_slices, utcnow
from citizencenter.errors import AppError, Forbidden
from citizencenter.integrations import signatures
from citizencenter.integrations.models import Integration, WebhookDelivery


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


def rotate_secret(session: Session, name: str, secret_keys: keys.SecretKeys, *,
                  actor: str = "system") -> str:
    """Issue a new signing secret; the previous one stays valid until the next rotation."""
    integration = session.scalar(select(Integration).where(Integration.name == name))
    if integration is None:
        raise IntegrationError(f"No integration named {name!r}.")
    secret = signatures.new_secret()
    current = signing_secrets(integration, secret_keys)
    integration.secrets_encrypted = _seal(secret_keys, [secret, *current[:1]])
    integration.rotated_at = utcnow()
    audit.record(session, actor, "integration.secret_rotated", "integration", integration.id,
                 old={"secrets": [audit.fingerprint(s) for s in current[:2]]},
                 new={"secrets": [audit.fingerprint(s) for s in (secret, *current[:1])]})
    session.commit()
    return secret


@dataclass
class Delivery:
    integration: Integration
    replayed: bool


def accept_delivery(session: Session, principal: Principal, secret_keys: keys.SecretKeys,
                    webhook_id: str | None, timestamp: str | None, signature: str | None,
                    body: bytes) -> Delivery:
    """Check a signed delivery from the caller's integration and note its webhook-id.

    The id is only flushed: it commits with the events it carried. A replayed id is
    reported, never applied twice.
    """
    integration = session.scalar(select(Integration)
                                 .where(Integration.token_id == principal.token_id))
    if integration is None:
        raise Forbidden("This token does not belong to an integration.")
    signatures.verify(signing_secrets(integration, secret_keys), webhook_id, timestamp,
                      signature, body)
    seen = session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.integration_id == integration.id,
        WebhookDelivery.webhook_id == webhook_id))
    if seen is not None:
        return Delivery(integration, replayed=True)
    try:
        with session.begin_nested():
            session.add(WebhookDelivery(integration_id=integration.id, webhook_id=webhook_id))
    except IntegrityError:
        return Delivery(integration, replayed=True)
    return Delivery(integration, replayed=False)


def purge_deliveries(session: Session, older_than: timedelta = timedelta(days=2)) -> int:
    """Ids older than the signature tolerance can no longer be replayed."""
    return delete_in_slices(session, WebhookDelivery,
                            WebhookDelivery.received_at < utcnow() - older_than)
