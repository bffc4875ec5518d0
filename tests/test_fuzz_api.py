"""A bounded schemathesis run over every operation of the live OpenAPI document.

Every generated request, valid or not, must get an answer the document allows: no 5xx,
a documented status code and content type, a body that matches its schema. It runs in
WSGI mode against the test app, inside one rolled-back transaction per role, once with an
admin token and once with a guide token. `make fuzz` runs the same test with more
examples (FUZZ_EXAMPLES) and another seed (FUZZ_SEED) if asked.
"""

import os

import hypothesis
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select

from citizencenter import create_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))


def _document() -> dict:
    """The OpenAPI document as the app serves it; building it needs no database."""
    app = create_app({"DATABASE_URL": "sqlite://", "REDIS_URL": "redis://127.0.0.1:1/0",
                      "SECRET_KEY": "fuzz-" + "k" * 60, "TESTING": True})
    return app.test_client().get("/api/v1/openapi.json").get_json()


# Fixed bearer tokens, one per role, that the fuzz_tokens fixture stores for each test:
# schemathesis builds part of its cases (the coverage phase) while collecting, before any
# fixture runs, so it must know the credentials at import time.
SECRETS = {"admin": "cc_fuzz-admin-" + "a" * 32, "guide": "cc_fuzz-guide-" + "g" * 32}


def _schema(document: dict, secret: str):
    """The document under test, with the token as the credentials of its bearerAuth scheme.

    Given as auth rather than as a header on every request, a negative case that drops the
    Authorization header really sends none, and the ignored_auth check knows what to take
    away for its probes.
    """
    return schemathesis.openapi.from_dict(document, config=SchemathesisConfig.from_dict({
        "seed": SEED,
        "auth": {"openapi": {"bearerAuth": {"bearer": secret}}},
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {
            "enabled": True,
            # A request the schema allows may still name a queue, category or cursor that does
            # not exist, or give a period in the wrong order: the service refuses it then.
            "positive_data_acceptance": {"expected-statuses": [
                "2xx", "400", "401", "403", "404", "409", "412", "422", "428", "429"]},
            # A PATCH with a stale or foreign If-Match is refused before its body is read.
            "negative_data_rejection": {"expected-statuses": [
                "400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428",
                "429"]},
            # RFC 6585: a PATCH without If-Match is 428 Precondition Required.
            "missing_required_header": {"expected-statuses": [
                "400", "401", "403", "406", "415", "422", "428"]},
        },
    }))


_DOCUMENT = _document()
SCHEMAS = {role: _schema(_DOCUMENT, secret) for role, secret in SECRETS.items()}

# The raw e-mail upload is text on the wire.
schemathesis.serializer.alias("message/rfc822", "text/plain")


@pytest.fixture
def fuzz_tokens(session) -> None:
    """The tokens of SECRETS, stored inside the per-test transaction: an admin and a guide."""
    from citizencenter.accounts.models import ApiToken, Role, User
    from citizencenter.accounts.service import hash_token

    guide = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    assert guide is not None and guide.role == Role.GUIDE
    session.add_all([
        ApiToken(name="fuzz admin", prefix=SECRETS["admin"][:10],
                 token_hash=hash_token(SECRETS["admin"]), role=Role.ADMIN, scopes=[]),
        ApiToken(name="fuzz guide", prefix=SECRETS["guide"][:10],
                 token_hash=hash_token(SECRETS["guide"]), user=guide, role=guide.role,
                 scopes=[]),
    ])
    session.commit()


@pytest.fixture
def fuzz_app(app, session, monkeypatch):
    """The test app inside the per-test transaction."""
    # The live stream would otherwise stay open for minutes: the first snapshot is enough.
    monkeypatch.setitem(app.config, "DASHBOARD_STREAM_MAX_S", 0)
    # Configured webhooks, so their signature checks answer rather than "not configured".
    for name in ("TWILIO_AUTH_TOKEN", "META_APP_SECRET", "META_VERIFY_TOKEN"):
        monkeypatch.setitem(app.config, name, f"fuzz-{name.lower()}")
    return app


def _every_operation_answers_as_documented(role: str):
    @SCHEMAS[role].parametrize()
    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def test(case, fuzz_app, fuzz_tokens):
        # Checks that send probes of their own (ignored_auth) find the app on the schema.
        case.operation.schema.app = case.operation.app = fuzz_app
        case.call_and_validate(app=fuzz_app)

    return test


test_every_operation_answers_as_documented_to_admin = _every_operation_answers_as_documented(
    "admin")
test_every_operation_answers_as_documented_to_guide = _every_operation_answers_as_documented(
    "guide")
