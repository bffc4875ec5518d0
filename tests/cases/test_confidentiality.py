"""Confidential cases (sekretess): who sees the content, on every endpoint and page that
shows a case's subject or content, the marking itself, forwarding, search and the trail."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import CONFIDENTIAL_SUBJECT, Case
from citizencenter.channels.email.models import EmailAttachment
from citizencenter.citizen_view.models import CitizenLinkRevocation
from citizencenter.db import utcnow
from citizencenter.organisation.models import Department, Queue
from citizencenter.routing import assignment
from citizencenter.routing.models import GuideProfile, Presence
from citizencenter.workspace import case_view
from citizencenter.workspace import service as workspace
from tests.channels.email.helpers import citizen_mail
from tests.factories import bearer, create_case
from tests.workspace.conftest import principal

SUBJECT = "Orosanmälan om grannens barn"
SECRET = "Barnet far illa enligt anmälaren"
NUMBER = "19121212-1212"
REASON = "26 kap. 1 § OSL"
# Who calls, and whether they may read the content of the confidential case.
SEES = {"guide": False, "assignee": True, "department": True, "supervisor": True,
        "admin": True}


@pytest.fixture
def callers(session, tokens):
    """A token per caller: the demo guide (not the assignee), the assignee (another guide),
    the staff of the case's department, of another department, a supervisor, an admin."""
    accounts.create_user(session, "other.department@lund.example", "Eva Annan", "department",
                         "tekniska")
    issued = dict(tokens)
    for key, email in (("assignee", "erik.johansson@lund.example"),
                       ("other_department", "other.department@lund.example")):
        issued[key] = accounts.create_token(session, f"test {key}", user_email=email)[1]
    session.commit()
    return issued


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


@pytest.fixture
def confidential(client, session, callers) -> str:
    """A case of stadsbyggnad's, assigned to Erik, with a note and a personnummer in its
    first message, marked confidential by a supervisor."""
    case_id = create_case(client, callers["guide"], subject=SUBJECT,
                          description=f"{SECRET}. Anmälarens personnummer {NUMBER}.")["id"]
    response = client.post(f"/api/v1/cases/{case_id}/messages", headers=bearer(
        callers["guide"]), json={"direction": "internal", "body": f"Anteckning: {SECRET}"})
    assert response.status_code == 201
    case = session.get(Case, uuid.UUID(case_id))
    case.department_id = session.scalar(select(Department.id)
                                        .where(Department.slug == "stadsbyggnad"))
    case.assignee_id = _user(session, "erik.johansson@lund.example").id
    session.commit()
    response = client.put(f"/api/v1/cases/{case_id}/confidentiality",
                          headers=bearer(callers["supervisor"]), json={"reason": REASON})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["confidential"] is True
    assert response.get_json()["reason"] == REASON
    return case_id


def _reads(session, case_id: str) -> list[tuple[str, str]]:
    return [(e.actor, e.data["view"]) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "case.confidential_read",
                                 AuditEntry.entity_id == case_id).order_by(AuditEntry.id))]


@pytest.mark.parametrize("caller", [*SEES, "other_department"])
def test_the_api_shows_the_content_only_to_those_who_may_see_it(client, session, callers,
                                                                confidential, caller):
    headers = bearer(callers[caller])
    case_url = f"/api/v1/cases/{confidential}"
    answers = {
        "case": client.get(case_url, headers=headers),
        "messages": client.get(f"{case_url}/messages", headers=headers),
        "marking": client.get(f"{case_url}/confidentiality", headers=headers),
        "list": client.get("/api/v1/cases?limit=100", headers=headers),
        "q": client.get("/api/v1/cases?q=Orosanm", headers=headers),
        "by_number": client.post("/api/v1/cases/by-identity-number", headers=headers,
                                 json={"personnummer": NUMBER}),
        "reveal": client.post(f"{case_url}/identity-numbers/reveal", headers=headers,
                              json={"reason": "Kontroll av anmälan"}),
    }
    for view, answer in answers.items():
        # The content is the conversation's, shown only there and only to those who may.
        if not (view == "messages" and SEES.get(caller)):
            assert SECRET not in answer.get_data(as_text=True), view
    listed = [c for c in answers["list"].get_json()["items"] if c["id"] == confidential]
    found = [c["id"] for c in answers["q"].get_json()["items"]]
    numbered = [c["id"] for c in answers["by_number"].get_json()["items"]]
    if caller == "other_department":  # the department rule comes first: no such case
        assert answers["case"].status_code == answers["messages"].status_code == 404
        assert answers["marking"].status_code == answers["reveal"].status_code == 404
        assert listed == [] and found == [] and numbered == []
        assert _reads(session, confidential) == []
        return
    case = answers["case"].get_json()
    assert answers["case"].status_code == 200 and case["confidential"] is True
    assert len(listed) == 1 and listed[0]["confidential"] is True
    if SEES[caller]:
        assert case["subject"] == listed[0]["subject"] == SUBJECT
        assert answers["messages"].status_code == 200
        assert "Anteckning" in answers["messages"].get_data(as_text=True)
        assert answers["marking"].get_json()["reason"] == REASON
        assert found == [confidential] and numbered == [confidential]
        actor = session.scalar(select(AuditEntry.actor).where(
            AuditEntry.action == "case.read", AuditEntry.entity_id == confidential)
            .order_by(AuditEntry.id.desc()).limit(1))
        # The case and its conversation, each read audited as a read of confidential content.
        assert {"case", "messages"} <= {view for who, view in _reads(session, confidential)
                                        if who == actor}
    else:
        assert case["subject"] == listed[0]["subject"] == CONFIDENTIAL_SUBJECT
        assert SUBJECT not in answers["case"].get_data(as_text=True)
        assert SUBJECT not in answers["list"].get_data(as_text=True)
        for name in ("messages", "marking", "reveal"):
            assert answers[name].status_code == 403, name
            assert answers[name].content_type == "application/problem+json"
            assert answers[name].get_json()["type"].endswith("/confidential-case")
        assert found == [] and numbered == []  # neither words nor numbers find it
        assert _reads(session, confidential) == []


@pytest.mark.parametrize("caller", ["guide", "assignee", "department", "supervisor"])
def test_the_pages_services_show_the_content_only_to_those_who_may_see_it(
        app, session, callers, confidential, caller):
    email = {"guide": "anna.lindqvist@lund.example", "assignee": "erik.johansson@lund.example",
             "department": "johan.berg@lund.example",
             "supervisor": "maria.svensson@lund.example"}[caller]
    actor = principal(_user(session, email))
    case_id = uuid.UUID(confidential)
    view = case_view.show_case(session, actor, case_id)
    paginator = app.extensions["paginator"]
    searched = workspace.search(session, actor, paginator, "Orosanm").items
    by_reference = workspace.search(session, actor, paginator, view.case.reference).items
    assert [c.id for c in by_reference] == [case_id]  # it exists, for all who see the case
    if SEES[caller]:
        assert view.case.shown_subject == SUBJECT and not view.case.content_hidden
        assert any("Anteckning" in m.message.body for m in view.messages)
        assert [c.id for c in searched] == [case_id]
        assert by_reference[0].shown_subject == SUBJECT
        assert _reads(session, confidential)[-1] == (actor.actor, "page")
    else:
        assert view.case.shown_subject == CONFIDENTIAL_SUBJECT and view.case.content_hidden
        assert view.messages == []
        assert searched == []
        assert by_reference[0].shown_subject == CONFIDENTIAL_SUBJECT
        assert _reads(session, confidential) == []


def test_the_worklist_shows_the_assignee_the_subject(app, session, confidential):
    erik = principal(_user(session, "erik.johansson@lund.example"))
    items = workspace.worklist(session, erik, app.extensions["paginator"]).items
    mine = [item.case for item in items if item.case.id == uuid.UUID(confidential)]
    assert [c.shown_subject for c in mine] == [SUBJECT]


def test_marking_is_for_those_who_handle_the_case_and_audited(client, session, callers,
                                                             confidential):
    url = f"/api/v1/cases/{confidential}/confidentiality"
    refused = client.delete(url, headers=bearer(callers["guide"]))
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    assert client.delete(url, headers=bearer(callers["other_department"])).status_code == 404
    for body in ({}, {"reason": ""}, {"reason": REASON, "secret": True},
                 {"reason": f"OSL, anmälare {NUMBER}"}):
        bad = client.put(url, headers=bearer(callers["assignee"]), json=body)
        assert bad.status_code == 422, body
        assert bad.content_type == "application/problem+json"
        assert bad.get_json()["errors"][0]["field"] in ("reason", "secret")
    lifted = client.delete(url, headers=bearer(callers["department"]))
    assert lifted.status_code == 200 and lifted.get_json()["confidential"] is False
    assert client.get(f"/api/v1/cases/{confidential}", headers=bearer(
        callers["guide"])).get_json()["subject"] == SUBJECT
    again = client.put(url, headers=bearer(callers["assignee"]), json={"reason": "21 kap. 1 §"})
    assert again.status_code == 200 and again.get_json()["reason"] == "21 kap. 1 §"
    trail = [(e.action, e.actor, e.data.get("reason")) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == confidential,
                                 AuditEntry.action.like("case.confidential_%marked"))
        .order_by(AuditEntry.id))]
    ids = {key: f"user:{_user(session, email).id}" for key, email in (
        ("supervisor", "maria.svensson@lund.example"),
        ("department", "johan.berg@lund.example"),
        ("assignee", "erik.johansson@lund.example"))}
    assert trail == [("case.confidential_marked", ids["supervisor"], REASON),
                     ("case.confidential_unmarked", ids["department"], REASON),
                     ("case.confidential_marked", ids["assignee"], "21 kap. 1 §")]


def test_forwarding_keeps_the_marking(client, session, callers):
    case_id = create_case(client, callers["guide"], subject=SUBJECT, description=SECRET)["id"]
    url = f"/api/v1/cases/{case_id}"
    assert client.put(f"{url}/confidentiality", headers=bearer(callers["supervisor"]),
                      json={"reason": REASON}).status_code == 200
    forwarded = client.post(f"{url}/forward", headers=bearer(callers["supervisor"]),
                            json={"department": "tekniska", "note": "Till tekniska"})
    assert forwarded.status_code == 201, forwarded.get_json()
    for caller, subject in (("other_department", SUBJECT), ("guide", CONFIDENTIAL_SUBJECT)):
        case = client.get(url, headers=bearer(callers[caller])).get_json()
        assert case["confidential"] is True and case["department"] == "tekniska"
        assert case["subject"] == subject, caller
    assert client.get(f"{url}/messages", headers=bearer(
        callers["other_department"])).status_code == 200
    assert client.get(f"{url}/messages", headers=bearer(callers["guide"])).status_code == 403


def test_an_attachment_is_content(client, session, callers):
    raw = citizen_mail(SUBJECT, attachment=("anmalan.pdf", "application/pdf",
                                            b"%PDF-1.4\n%%EOF\n"))
    posted = client.post("/api/v1/integrations/email/mime", data=raw, headers={
        **bearer(callers["admin"]), "Content-Type": "message/rfc822"})
    assert posted.status_code == 201, posted.get_json()
    case_id = posted.get_json()["case_id"]
    attachment = session.scalar(select(EmailAttachment.id).where(
        EmailAttachment.case_id == uuid.UUID(case_id)))
    session.get(Case, uuid.UUID(case_id)).assignee_id = _user(
        session, "erik.johansson@lund.example").id
    session.commit()
    assert client.put(f"/api/v1/cases/{case_id}/confidentiality", headers=bearer(
        callers["assignee"]), json={"reason": REASON}).status_code == 200
    url = f"/api/v1/email/attachments/{attachment}"
    refused = client.get(url, headers=bearer(callers["guide"]))
    assert refused.status_code == 403 and b"%PDF" not in refused.data
    assert refused.get_json()["type"].endswith("/confidential-case")
    assert _reads(session, case_id) == []
    shown = client.get(url, headers=bearer(callers["assignee"]))
    assert shown.status_code == 200 and shown.data.startswith(b"%PDF")
    erik = f"user:{_user(session, 'erik.johansson@lund.example').id}"
    assert _reads(session, case_id) == [(erik, "attachment")]


def test_no_reply_or_subject_is_written_blind(client, session, callers, confidential):
    url = f"/api/v1/cases/{confidential}"
    refused = client.post(f"{url}/messages", headers=bearer(callers["guide"]),
                          json={"direction": "outbound", "body": "Hej!"})
    assert refused.status_code == 403
    noted = client.post(f"{url}/messages", headers=bearer(callers["guide"]),
                        json={"direction": "internal", "body": "Ringde, bad om återkoppling."})
    assert noted.status_code == 201  # a note adds without reading
    assert "Anteckning" not in noted.get_data(as_text=True)
    version = session.get(Case, uuid.UUID(confidential)).version
    refused = client.patch(url, headers={**bearer(callers["guide"]), "If-Match": f'"{version}"'},
                           json={"subject": "Nytt ämne"})
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/confidential-case")
    allowed = client.patch(url, headers={**bearer(callers["guide"]),
                                         "If-Match": f'"{version}"'}, json={"priority": "high"})
    assert allowed.status_code == 200 and allowed.get_json()["subject"] == CONFIDENTIAL_SUBJECT
    written = client.post(f"{url}/messages", headers=bearer(callers["assignee"]),
                          json={"direction": "internal", "body": "Noterat."})
    assert written.status_code == 201


@pytest.mark.parametrize("changes", [
    {"assignee": "anna.lindqvist@lund.example"},  # herself: she would read it next
    {"assignee": None},  # the handler taken away
    {"status": "resolved"},
    {"status": "waiting_on_citizen"},
    {"resolved_at_first_contact": True},
], ids=["assign-to-self", "release", "resolve", "wait", "first-contact"])
def test_no_handling_decision_is_made_blind(client, session, callers, confidential, changes):
    """Who has a confidential case, and whether it is done, is decided by those who may
    read it: a guide who only sees that it exists is refused, and nothing changes."""
    case_id = uuid.UUID(confidential)
    if changes.get("assignee"):
        changes = {"assignee": _user(session, changes["assignee"]).id}
    before = session.get(Case, case_id)
    state = (before.version, before.assignee_id, before.status, before.resolved_at_first_contact)
    session.rollback()
    url = f"/api/v1/cases/{confidential}"
    refused = client.patch(url, headers={**bearer(callers["guide"]),
                                         "If-Match": f'"{state[0]}"'}, json=changes)
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["type"].endswith("/confidential-case")
    after = session.get(Case, case_id)
    assert (after.version, after.assignee_id, after.status,
            after.resolved_at_first_contact) == state
    assert "Barnet" not in client.get(url, headers=bearer(callers["guide"])).get_data(as_text=True)
    session.rollback()
    allowed = client.patch(url, headers={**bearer(callers["assignee"]),
                                         "If-Match": f'"{state[0]}"'}, json=changes)
    assert allowed.status_code == 200, allowed.get_json()


def test_forwarding_is_not_done_blind(client, session, callers, confidential):
    """Forwarding would show the content to the chosen department's staff."""
    case = session.get(Case, uuid.UUID(confidential))
    before = (case.version, case.status, case.department_id)
    session.rollback()
    refused = client.post(f"/api/v1/cases/{confidential}/forward",
                          headers=bearer(callers["guide"]),
                          json={"department": "tekniska", "note": "För handläggning."})
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["type"].endswith("/confidential-case")
    case = session.get(Case, uuid.UUID(confidential))
    assert (case.version, case.status, case.department_id) == before


def test_the_citizens_links_are_not_revoked_blind(client, session, callers, confidential):
    """Cutting the citizen off from their case is a decision on it, for those who read it."""
    url = f"/api/v1/cases/{confidential}/citizen-link/revoke"
    refused = client.post(url, headers=bearer(callers["guide"]))
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["type"].endswith("/confidential-case")
    assert session.get(CitizenLinkRevocation, uuid.UUID(confidential)) is None
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.citizen_link_revoked",
        AuditEntry.entity_id == confidential)) is None
    assert client.post(url, headers=bearer(callers["assignee"])).status_code == 200
    assert session.get(CitizenLinkRevocation, uuid.UUID(confidential)) is not None


def test_routing_gives_a_waiting_confidential_case_only_to_those_who_may_read_it(
        client, session, callers, confidential):
    """Back in a queue (released, handed back), a confidential case is not handed to a
    guide, who would read it as its assignee: neither pulled (Nästa ärende) nor pushed.
    A supervisor who takes work gets it; with none free it waits."""
    case_id = uuid.UUID(confidential)
    guide = _user(session, "anna.lindqvist@lund.example")
    supervisor = _user(session, "maria.svensson@lund.example")
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.execute(update(Case).where(Case.id == case_id).values(
        assignee_id=None, department_id=None, status=CaseStatus.OPEN, priority="urgent",
        waiting_since=utcnow() - timedelta(hours=5),
        queue_id=select(Queue.id).where(Queue.slug == "epost").scalar_subquery()))
    for user, idle_h in ((guide, 3), (supervisor, 0)):
        profile = session.get(GuideProfile, user.id) or GuideProfile(user_id=user.id)
        profile.presence = Presence.AVAILABLE
        profile.idle_since = utcnow() - timedelta(hours=idle_h)
        profile.skills, profile.capacities = ["channel:email", "language:sv"], {"email": 5}
        profile.queue_ids = []
        session.add(profile)
    session.commit()

    claimed = client.post("/api/v1/routing/claim", headers=bearer(callers["guide"]))
    assert claimed.status_code in (200, 204)
    assert session.scalar(select(Case.assignee_id).where(Case.id == case_id)) is None
    session.rollback()

    case = assignment.lock_case(session, case_id, skip=False)
    outcome = assignment.try_assign(session, case)
    fits = {c["user_id"]: c["fit"] for c in outcome.candidates}
    assert fits[guide.id] == "confidential"  # the longest idle, passed over
    assert outcome.assigned_to == supervisor.id
    session.rollback()
    case = assignment.lock_case(session, case_id, skip=False)
    assignment.assign_batch(session, [case])
    assert case.assignee_id == supervisor.id
    session.rollback()

    session.get(GuideProfile, supervisor.id).presence = Presence.OFFLINE
    session.commit()
    case = assignment.lock_case(session, case_id, skip=False)
    assert assignment.try_assign(session, case).assigned_to is None
    session.rollback()
    assert session.scalar(select(Case.assignee_id).where(Case.id == case_id)) is None
