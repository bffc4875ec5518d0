"""Every operation of the OpenAPI document, called by every kind of caller.

The expected answer is derived, not written per path: the scope each view demands
(`_required_scope`, set by auth.require_scope) against the scopes a caller's token
resolves to (ROLE_SCOPES through accounts.authenticate), plus the few role rules the
services add, listed below. Public operations are listed explicitly. Department staff
must get 404 for a case of another department on every case-scoped operation.
"""

import re
import secrets
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter import create_app
from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.answers import service as answers
from citizencenter.cases.models import Case
from citizencenter.channels.email.models import EmailAttachment
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.knowledge import service as knowledge
from citizencenter.knowledge.models import Article
from citizencenter.routing.models import GuideProfile, Presence
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer, case_payload

# Open to anyone: they answer without a bearer token, or check a provider's signature.
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/webform/categories"),
    ("POST", "/api/v1/webform/inquiries"),
    ("GET", "/api/v1/integrations/meta/webhook"),
    ("POST", "/api/v1/integrations/meta/webhook"),
    ("POST", "/api/v1/integrations/calls/twilio"),
    ("GET", "/api/v1/public/knowledge/articles"),
    ("GET", "/api/v1/public/knowledge/articles/{article_id}"),
    ("GET", "/api/v1/public/knowledge/search"),
}
# A bearer scope and a signature of the body: without the signature, never 2xx.
SIGNED = {
    ("POST", "/api/v1/integrations/calls/events"),
    ("POST", "/api/v1/integrations/calls/asterisk"),
}
# Operations open to any one of several scopes (routing's require_any_scope).
ANY_SCOPE = {("POST", "/api/v1/routing/decide"): ("calls:write", "routing:write"),
             # Retention: supervisors (sla:write), or a token given retention:write.
             **{(method, f"/api/v1/retention/{path}"): ("retention:write", "sla:write")
                for method, path in (("GET", "rules"), ("POST", "rules"),
                                     ("GET", "rules/{rule_id}"), ("PATCH", "rules/{rule_id}"),
                                     ("DELETE", "rules/{rule_id}"), ("GET", "plan"),
                                     ("GET", "holds"), ("POST", "holds"),
                                     ("DELETE", "holds/{hold_id}"))}}
# What the services refuse beyond the scope: {operation: {caller: allowed statuses}}.
SERVICE_RULES = {
    ("POST", "/api/v1/cases/{case_id}/forward"): {"department": {403}},
    ("POST", "/api/v1/cases/{case_id}/send-back"): {"guide": {403}},
    ("POST", "/api/v1/walk-ins"): {"department": {403}},
    ("POST", "/api/v1/cases"): {"department": {403}},
    ("POST", "/api/v1/routing/claim"): {"admin": {403}, "department": {403, 404}},
    ("PUT", "/api/v1/routing/guides/{user_id}/presence"): {"department": {403}},
    # A personnummer is revealed to a person, who is named in the audit trail.
    ("POST", "/api/v1/cases/{case_id}/identity-numbers/reveal"): {"admin": {403},
                                                                   "reader": {403}},
    # Confidentiality is marked by those who handle the case, not by any guide.
    ("PUT", "/api/v1/cases/{case_id}/confidentiality"): {"guide": {403}},
    ("DELETE", "/api/v1/cases/{case_id}/confidentiality"): {"guide": {403}},
    # Answer templates are kept by supervisors and admins; guides read and use them.
    **{operation: {"guide": {403}, "department": {403}} for operation in (
        ("POST", "/api/v1/answer-templates"),
        ("PATCH", "/api/v1/answer-templates/{template_id}"),
        ("DELETE", "/api/v1/answer-templates/{template_id}"))},
}
# Knowledge articles are written by supervisors and the owning department's staff.
SERVICE_RULES.update({operation: {"guide": {403}} for operation in (
    ("POST", "/api/v1/knowledge/articles"),
    ("PATCH", "/api/v1/knowledge/articles/{article_id}"),
    ("POST", "/api/v1/knowledge/articles/{article_id}/review"))})
# Proposed changes are answered by the same owners; a token without a role has none to answer.
SERVICE_RULES[("GET", "/api/v1/knowledge/proposals")] = {"guide": {403}, "reader": {403}}
SERVICE_RULES[("PATCH", "/api/v1/knowledge/proposals/{proposal_id}")] = {"guide": {403}}
# POSTs that compute an answer and store nothing, so a read scope guards them.
COMPUTING = {("POST", "/api/v1/staffing/erlang-c"),
             # Reads (audited, like a GET) that take a personnummer in the body, not the URL.
             ("POST", "/api/v1/cases/by-identity-number"),
             ("POST", "/api/v1/cases/{case_id}/identity-numbers/reveal"),
             # An answer template filled for a case, to read before sending (audited).
             ("POST", "/api/v1/cases/{case_id}/answer-templates/{template_id}/preview"),
             # Where the router would place such a case; nothing is stored.
             ("POST", "/api/v1/routing/rules/dry-run")}
# Path parameters naming an object that belongs to a case.
CASE_SCOPED = {"case_id", "attachment_id"}
CALLERS = ("admin", "supervisor", "guide", "department", "integration", "reader", "none",
           "revoked")
METHODS = {"get", "post", "put", "patch", "delete"}


def _spec_and_scopes(app) -> tuple[dict, dict]:
    """The OpenAPI document and, per (METHOD, path as in the document), the view's scope."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    scopes = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            scopes[(method, path)] = getattr(handler, "_required_scope", None)
    return spec, scopes


def _operations() -> list[tuple[str, str]]:
    # Collection needs the list before any fixture exists: an app that never connects.
    app = create_app({"DATABASE_URL": "sqlite://", "REDIS_URL": "redis://127.0.0.1:1/0",
                      "SECRET_KEY": secrets.token_urlsafe(48), "TESTING": True})
    spec, _ = _spec_and_scopes(app)
    return sorted((method.upper(), path) for path, item in spec["paths"].items()
                  for method in item if method in METHODS)


OPERATIONS = _operations()


@pytest.fixture(autouse=True)
def nobody_free(session):
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()


@pytest.fixture
def callers(session, tokens) -> dict[str, str | None]:
    _, reader = accounts.create_token(session, "rapportläsare",
                                      scopes=["cases:read", "reports:read", "directory:read"])
    revoked, gone = accounts.create_token(session, "återkallad", role="supervisor")
    revoked.revoked_at = utcnow()
    session.commit()
    return {**tokens, "reader": reader, "none": None, "revoked": gone}


class World:
    """The objects the paths name, made through the API like a user would."""

    def __init__(self, app, client, session, tokens):
        self.client, self.session, self.tokens = client, session, tokens
        self.user_id = session.scalar(select(User.id).where(
            User.email == "anna.lindqvist@lund.example"))
        spec, self.scopes = _spec_and_scopes(app)
        self.spec = spec
        self.rule_id = self._first("/api/v1/routing/rules", "id") or 1
        self.calendar = self._first("/api/v1/sla/calendars", "slug") or "none"
        self.policy = self._first("/api/v1/sla/policies", "slug") or "none"
        contact = Contact(name="Karin Ek", email="karin.matris@example.se")
        session.add(contact)
        session.commit()
        self.contact_id = contact.id
        admin = accounts.authenticate(session, tokens["admin"])
        self.article_id = knowledge.create_article(
            session, admin, title="Matris", body="Text.", department="stadsbyggnad",
            audience="internal").id
        self.proposal_id = knowledge.propose_change(session, admin, self.article_id,
                                                    "Förslag.").id
        self.template_id = answers.create_template(
            session, admin, {"name": "Matrismall", "body": "Hej {{ citizen_name }}!"}).id
        # A token of its own for DELETE /api/v1/tokens/{token_id} to revoke.
        self.token_id = accounts.create_token(session, "matristoken", scopes=["cases:read"])[0].id

    def _first(self, url, key):
        items = self.client.get(url, headers=bearer(self.tokens["admin"])).get_json()["items"]
        return items[0][key] if items else None

    def case_of(self, department: str) -> dict:
        """An e-mailed case with an attachment, forwarded to `department`."""
        raw = citizen_mail("Plank mot gatan", attachment=("ritning.pdf", "application/pdf",
                                                          b"%PDF-1.4\n%%EOF\n"))
        posted = self.client.post("/api/v1/integrations/email/mime", data=raw, headers={
            **bearer(self.tokens["admin"]), "Content-Type": "message/rfc822"})
        assert posted.status_code == 201, posted.get_json()
        case_id = posted.get_json()["case_id"]
        forwarded = self.client.post(f"/api/v1/cases/{case_id}/forward",
                                     headers=bearer(self.tokens["guide"]),
                                     json={"department": department, "note": "Till er."})
        assert forwarded.status_code == 201, forwarded.get_json()
        attachment = self.session.scalar(select(EmailAttachment.id).where(
            EmailAttachment.case_id == uuid.UUID(case_id)))
        return {"case_id": case_id, "attachment_id": attachment}

    def request(self, method: str, path: str, token: str | None, case: dict):
        values = {**case, "rule_id": self.rule_id, "user_id": self.user_id,
                  "contact_id": self.contact_id,
                  "quarantine_id": 1, "hold_id": 1, "template_id": self.template_id,
                  "article_id": self.article_id, "version": 1, "token_id": self.token_id,
                  "proposal_id": self.proposal_id,
                  "slug": self._slug(path), "name": "no-such-integration", "channel": "email"}
        url = re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)
        headers = bearer(token) if token else {}
        kwargs = {"json": self._body(method, path)}
        if method == "PATCH" and "{case_id}" in path:
            version = self.session.scalar(select(Case.version).where(
                Case.id == uuid.UUID(case["case_id"])))
            headers["If-Match"] = f'"{version}"'
        if method == "PATCH" and "{article_id}" in path:
            version = self.session.scalar(select(Article.version).where(
                Article.id == self.article_id))
            headers["If-Match"] = f'"{version}"'
        if method in ("GET", "DELETE"):
            kwargs = {}
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        response.close()  # the live stream never ends; its status is all we need
        return response

    def _slug(self, path: str) -> str:
        if path.startswith("/api/v1/sla/calendars"):
            return self.calendar
        if path.startswith("/api/v1/sla/policies"):
            return self.policy
        return "kontaktcenter"

    @staticmethod
    def _body(method: str, path: str) -> dict:
        bodies = {
            ("POST", "/api/v1/cases"): case_payload(),
            ("PATCH", "/api/v1/cases/{case_id}"): {"priority": "high"},
            ("POST", "/api/v1/cases/{case_id}/messages"): {"direction": "internal",
                                                            "body": "Anteckning."},
            ("POST", "/api/v1/cases/{case_id}/forward"): {"department": "miljo"},
            ("POST", "/api/v1/cases/{case_id}/send-back"): {"note": "Inte vårt."},
            ("PUT", "/api/v1/routing/guides/{user_id}/presence"): {"presence": "offline"},
            ("PUT", "/api/v1/contacts/{contact_id}/protection"): {"kind": "sekretessmarkering"},
            ("POST", "/api/v1/routing/decide"): {"queue": "kontaktcenter"},
            ("PUT", "/api/v1/routing/channel-defaults/{channel}"): {"queue": "kontaktcenter"},
            ("POST", "/api/v1/cases/by-identity-number"): {"personnummer": "19121212-1212"},
            ("POST", "/api/v1/cases/{case_id}/identity-numbers/reveal"): {
                "reason": "Handläggning av ärendet"},
            ("PUT", "/api/v1/cases/{case_id}/confidentiality"): {"reason": "26 kap. 1 § OSL"},
            ("POST", "/api/v1/answer-templates"): {"name": "Matris", "body": "Hej!"},
            ("PATCH", "/api/v1/answer-templates/{template_id}"): {"active": True},
            ("POST", "/api/v1/knowledge/articles"): {
                "title": "Matris", "body": "Text.", "department": "stadsbyggnad",
                "audience": "internal"},
            ("PATCH", "/api/v1/knowledge/articles/{article_id}"): {"title": "Matris 2"},
            ("POST", "/api/v1/knowledge/articles/{article_id}/proposals"): {"note": "Förslag."},
            ("PATCH", "/api/v1/knowledge/proposals/{proposal_id}"): {"outcome": "declined"},
            ("POST", "/api/v1/cases/{case_id}/knowledge-uses"): {"article_id": 1},
            ("POST", "/api/v1/walk-ins"): {
                "service_point": "dalby", "subject": "Hjälp med e-tjänst",
                "visited_at": (utcnow() - timedelta(minutes=30)).isoformat(),
                "resolved_at_first_contact": True},
        }
        return bodies.get((method, path), {})


def _expected(world: World, operation, caller: str, principal) -> set[int] | str:
    """The statuses the access rules allow, or "allowed" (any 2xx-4xx but 401/403)."""
    if caller in ("none", "revoked"):
        return {401}
    scopes = ANY_SCOPE.get(operation) or (world.scopes[operation],)
    if not any(principal.has_scope(scope) for scope in scopes):
        return {403}
    rule = SERVICE_RULES.get(operation, {}).get(caller)
    if rule:
        return rule
    return "signed" if operation in SIGNED else "allowed"


def _problem(response) -> bool:
    return response.content_type == "application/problem+json"


def test_the_matrix_covers_every_operation_and_every_one_is_guarded(app):
    spec, scopes = _spec_and_scopes(app)
    documented = sorted((m.upper(), p) for p, item in spec["paths"].items()
                        for m in item if m in METHODS)
    assert documented == OPERATIONS
    unguarded = [op for op in OPERATIONS
                 if op not in PUBLIC and op not in ANY_SCOPE and not scopes.get(op)]
    assert unguarded == [], "operations without a scope must be listed as public"
    assert {op for op in PUBLIC | SIGNED | set(ANY_SCOPE) | set(SERVICE_RULES)} <= set(OPERATIONS)


def test_no_change_is_guarded_by_a_read_scope(app):
    _, scopes = _spec_and_scopes(app)
    writes_behind_reads = [op for op in OPERATIONS if op[0] != "GET" and op not in COMPUTING
                           and (scopes.get(op) or "").endswith(":read")]
    assert writes_behind_reads == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_caller_gets_the_answer_the_access_rules_give(app, client, session, callers,
                                                            operation):
    method, path = operation
    world = World(app, client, session, callers)
    principals = {name: accounts.authenticate(session, token) for name, token in callers.items()
                  if name not in ("none", "revoked")}
    case_scoped = bool(CASE_SCOPED & set(re.findall(r"{(\w+)}", path)))
    needs_case = case_scoped or "{case_id}" in path
    shared = world.case_of("stadsbyggnad") if needs_case else {}
    theirs = world.case_of("utbildning") if case_scoped else {}
    wrong = []
    for caller in CALLERS:
        # A change made by one caller must not decide the next one's answer.
        ours = world.case_of("stadsbyggnad") if needs_case and method != "GET" else shared
        response = world.request(method, path, callers[caller], ours)
        status = response.status_code
        if operation in PUBLIC:
            expected = "public"
            ok = status < 500
        else:
            expected = _expected(world, operation, caller, principals.get(caller))
            if expected == "allowed":
                ok = status < 500 and status not in (401, 403)
            elif expected == "signed":
                ok = 400 <= status < 500
            else:
                ok = status in expected and _problem(response)
        if not ok:
            wrong.append(f"{caller}: {status}, expected {expected}")
        if caller == "department" and case_scoped and operation not in PUBLIC \
                and principals[caller].has_scope(world.scopes[operation]):
            # Another department's case: not there at all, whatever the operation.
            other = world.request(method, path, callers[caller], theirs)
            if other.status_code != 404 or not _problem(other):
                wrong.append(f"department on another department's case: {other.status_code}")
    assert wrong == [], f"{method} {path}: " + "; ".join(wrong)


def test_the_citizens_feedback_page_needs_no_token(client):
    response = client.get("/feedback/not-a-real-token")
    assert response.status_code < 500 and response.status_code not in (401, 403)
