"""A case's archival document: one self-contained HTML file, masked, audited, access-checked."""

import hashlib
import secrets
import uuid
from html.parser import HTMLParser

from sqlalchemy import select

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Message
from citizencenter.web.signin import _KEY
from tests.cases.test_api import _forward, _patch
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer

NUMBER = "19811228-9874"  # a valid personnummer; the document shows 19811228-XXXX only
PDF = b"%PDF-1.4\n%%EOF\n"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "data",
                  "background", "xlink:href", "ping", "cite", "manifest"}


class Document(HTMLParser):
    """What the test needs of the HTML: tags, attributes, and each entry's text in order."""

    def __init__(self, html: str):
        super().__init__()
        self.tags, self.attributes, self.entries, self.texts = [], [], {}, []
        self._list, self._entry = None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        attrs = dict(attrs)
        if tag == "ol":
            self._list = attrs.get("id")
        if tag == "li" and self._list:
            self._entry = []
            self.entries.setdefault(self._list, []).append(self._entry)

    def handle_endtag(self, tag):
        if tag == "ol":
            self._list = None

    def handle_data(self, data):
        self.texts.append(data)
        if self._entry is not None and self._list:
            self._entry.append(data)


def _message(client, token, case_id, direction, body):
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(token),
                           json={"direction": direction, "body": body})
    assert response.status_code == 201, response.get_json()


def test_the_archive_holds_the_case_in_order_masked_without_script_or_external_resource(
        client, session, tokens):
    from citizencenter.accounts import service as accounts

    mail_token = accounts.create_token(session, "archive mail", scopes=["mail:ingest"])[1]
    raw = citizen_mail(f"Bygglov för {NUMBER[2:]}", f"Hej!\nMitt personnummer är {NUMBER}.",
                       attachment=("ritning.pdf", "application/pdf", PDF))
    posted = client.post("/api/v1/integrations/email/mime", data=raw, headers={
        **bearer(mail_token), "Content-Type": "message/rfc822"})
    assert posted.status_code == 201, posted.get_json()
    case_id, guide = posted.get_json()["case_id"], tokens["guide"]
    _message(client, guide, case_id, "outbound", "Tack, vi återkommer <b>snart</b>.")
    _message(client, guide, case_id, "internal", f"Kontrollerat {NUMBER.replace('-', '')}.")
    _message(client, guide, case_id, "inbound",
             '<script>alert(1)</script><img src="https://evil.example/x.png"> Svar från mig.')
    assert _patch(client, guide, {"id": case_id}, diarienummer="KS 2026/0457").status_code == 200

    response = client.get(f"/api/v1/cases/{case_id}/archive", headers=bearer(guide))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".html" in response.headers["Content-Disposition"]
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # scripts: none at all
    html = response.get_data(as_text=True)
    document = Document(html)

    # Self-contained: no script, nothing that loads or links anything, from anywhere.
    assert "script" not in document.tags
    assert {"link", "img", "iframe", "object", "embed", "base", "form"}.isdisjoint(document.tags)
    assert [a for a in document.attributes if a[0] in URL_ATTRIBUTES] == []
    assert "url(" not in html and "@import" not in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    # Identity numbers only masked, in every written form.
    for form in (NUMBER, NUMBER.replace("-", ""), NUMBER[2:], NUMBER[2:].replace("-", "")):
        assert form not in html
    assert "19811228-XXXX" in html

    # The conversation in order, the note apart, the attachment listed with its hash.
    bodies = session.scalars(select(Message.body).where(Message.case_id == uuid.UUID(case_id))
                             .order_by(Message.created_at, Message.id)).all()
    conversation = ["".join(e) for e in document.entries["conversation-entries"]]
    notes = ["".join(e) for e in document.entries["note-entries"]]
    assert len(conversation) == len(bodies) - 1 and len(notes) == 1
    shown = [b for b in bodies if not b.startswith("Kontrollerat")]
    assert all(body in text for body, text in zip(shown, conversation, strict=True))
    assert "Mitt personnummer är 19811228-XXXX" in conversation[0]
    assert "Svar från mig." in conversation[-1] and "Kontrollerat 19811228-XXXX" in notes[0]
    text = " ".join(document.texts)
    assert "KS 2026/0457" in text and "ritning.pdf" in text and str(len(PDF)) in text
    assert hashlib.sha256(PDF).hexdigest() in text and "application/pdf" in text

    [entry] = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case.archived", AuditEntry.entity_id == case_id)).all()
    assert entry.data["attachments"] == 1 and entry.data["messages"] == len(bodies)
    assert entry.data["diarienummer"] == "KS 2026/0457" and entry.actor.startswith("user:")
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.read", AuditEntry.entity_id == case_id,
        AuditEntry.data["view"].as_string() == "archive")) is not None


def test_department_staff_get_404_outside_their_department_and_nothing_is_audited(
        client, session, tokens):
    ours = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json={
        "channel": "phone", "subject": "Plank", "description": "Får jag bygga?"}).get_json()
    theirs = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json={
        "channel": "phone", "subject": "Skola", "description": "Skolskjuts?"}).get_json()
    _forward(client, tokens["guide"], ours, "stadsbyggnad")
    _forward(client, tokens["guide"], theirs, "utbildning")
    auth = bearer(tokens["department"])
    assert client.get(f"/api/v1/cases/{ours['id']}/archive", headers=auth).status_code == 200
    refused = client.get(f"/api/v1/cases/{theirs['id']}/archive", headers=auth)
    assert refused.status_code == 404 and refused.content_type == "application/problem+json"
    missing = client.get(f"/api/v1/cases/{uuid.uuid4()}/archive", headers=auth)
    assert missing.status_code == 404
    assert client.get(f"/api/v1/cases/{ours['id']}/archive").status_code == 401
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.archived", AuditEntry.entity_id == theirs["id"])) is None


def test_the_case_page_links_the_archive_and_shows_the_diarienummer(client, session, tokens,
                                                                     app):
    from citizencenter.accounts.models import User
    from citizencenter.accounts.passwords import hash_password

    case = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json={
        "channel": "phone", "subject": "Gatlykta", "description": "Den är släckt."}).get_json()
    assert _patch(client, tokens["guide"], case, diarienummer="TN 2026/88").status_code == 200
    guide = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    guide.password_hash = hash_password("rätt-lösenord-för-test")  # may sign in (rolled back)
    session.flush()
    sid = secrets.token_urlsafe(16)
    app.extensions["web_redis"].set(_KEY + sid, guide.id, ex=300)
    with client.session_transaction() as web_session:
        web_session["sid"] = sid
    page = client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/cases/{case["id"]}/archive"' in html and "TN 2026/88" in html
    download = client.get(f"/cases/{case['id']}/archive")
    assert download.status_code == 200 and download.mimetype == "text/html"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "default-src 'none'" in download.headers["Content-Security-Policy"]
    assert "TN 2026/88" in download.get_data(as_text=True)


def test_a_confidential_case_is_archived_only_for_those_who_may_read_its_content(
        client, session, tokens):
    case = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json={
        "channel": "phone", "subject": "Orosanmälan",
        "description": "Uppgifter som omfattas av sekretess."}).get_json()
    marked = client.put(f"/api/v1/cases/{case['id']}/confidentiality",
                        headers=bearer(tokens["supervisor"]),
                        json={"reason": "26 kap. 1 § OSL"})
    assert marked.status_code == 200, marked.get_json()
    url = f"/api/v1/cases/{case['id']}/archive"
    refused = client.get(url, headers=bearer(tokens["guide"]))  # not its assignee
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert "Uppgifter som omfattas" not in refused.get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.archived", AuditEntry.entity_id == case["id"])) is None
    allowed = client.get(url, headers=bearer(tokens["supervisor"]))
    assert allowed.status_code == 200
    assert "Uppgifter som omfattas av sekretess." in allowed.get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.confidential_read", AuditEntry.entity_id == case["id"],
        AuditEntry.data["view"].as_string() == "archive")) is not None


def test_a_protected_contacts_case_has_no_archive_without_the_permission(client, session,
                                                                          tokens):
    case = client.post("/api/v1/cases", headers=bearer(tokens["guide"]), json={
        "channel": "phone", "subject": "Adressändring", "description": "Ny adress.",
        "contact": {"name": "Skyddad Person", "email": "skyddad.arkiv@example.se"}}).get_json()
    protected = client.put(f"/api/v1/contacts/{case['contact']['id']}/protection",
                           headers=bearer(tokens["supervisor"]),
                           json={"kind": "skyddad_folkbokforing"})
    assert protected.status_code == 200, protected.get_json()
    for role in ("guide", "supervisor", "department"):
        refused = client.get(f"/api/v1/cases/{case['id']}/archive", headers=bearer(tokens[role]))
        assert refused.status_code == 404, (role, refused.status_code)
        assert refused.content_type == "application/problem+json"
        assert "Skyddad Person" not in refused.get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.archived", AuditEntry.entity_id == case["id"])) is None
