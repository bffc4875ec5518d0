"""Every view of one case is audited (who, when, which case, which view); lists are not."""

import uuid

from citizencenter.channels.email.models import EmailAttachment, EmailKind, EmailMessage
from tests.audit.helpers import GUIDE, actor_of, entries
from tests.factories import bearer, create_case


def _reads(session, case_id):
    return [(e.actor, e.data) for e in entries(session, entity_id=case_id, action="case.read")]


def test_reading_a_case_records_who_and_which_case_not_what(client, tokens, session):
    case = create_case(client, tokens["guide"])
    guide = actor_of(session, GUIDE)
    assert _reads(session, case["id"]) == []
    response = client.get(f"/api/v1/cases/{case['id']}", headers=bearer(tokens["guide"]))
    assert response.status_code == 200
    [read] = entries(session, entity_id=case["id"], action="case.read")
    assert (read.actor, read.entity_type, read.data) == (guide, "case", {"view": "case"})
    assert read.occurred_at is not None
    # Nothing of the case's content is kept: no subject, no contact, no text.
    assert case["subject"] not in str(read.data) and "karin" not in str(read.data)


def test_each_case_scoped_view_is_one_read(client, tokens, session):
    case = create_case(client, tokens["guide"])
    headers = bearer(tokens["supervisor"])
    for path in ("", "/messages", "/routing", "/sla"):
        assert client.get(f"/api/v1/cases/{case['id']}{path}", headers=headers) \
            .status_code == 200, path
    supervisor = actor_of(session, "maria.svensson@lund.example")
    assert _reads(session, case["id"]) == [(supervisor, {"view": view})
                                           for view in ("case", "messages", "routing", "sla")]


def test_downloading_an_attachment_is_a_read_of_its_case(client, tokens, session):
    case = create_case(client, tokens["guide"])
    email = EmailMessage(kind=EmailKind.INBOUND, dedupe_key=f"{uuid.uuid4()}@example.se")
    session.add(email)
    session.flush()
    attachment = EmailAttachment(email_id=email.id, case_id=uuid.UUID(case["id"]),
                                 filename="karta.pdf", declared_type="application/pdf",
                                 detected_type="application/pdf", size=4, content=b"%PDF")
    session.add(attachment)
    session.commit()
    response = client.get(f"/api/v1/email/attachments/{attachment.id}",
                          headers=bearer(tokens["guide"]))
    assert response.status_code == 200 and response.data == b"%PDF"
    assert _reads(session, case["id"]) == [
        (actor_of(session, GUIDE), {"view": "attachment", "attachment_id": attachment.id})]


def test_a_case_the_caller_may_not_see_leaves_no_read(client, tokens, session):
    case = create_case(client, tokens["guide"])
    for path in ("", "/messages", "/sla"):
        assert client.get(f"/api/v1/cases/{case['id']}{path}",
                          headers=bearer(tokens["department"])).status_code == 404
    assert _reads(session, case["id"]) == []
    missing = uuid.uuid4()
    assert client.get(f"/api/v1/cases/{missing}", headers=bearer(tokens["guide"])) \
        .status_code == 404
    assert entries(session, entity_id=missing) == []


def test_listing_cases_records_nothing_per_row(client, tokens, session):
    create_case(client, tokens["guide"])
    before = len(entries(session, action="case.read"))
    response = client.get("/api/v1/cases", headers=bearer(tokens["guide"]))
    assert response.status_code == 200 and response.get_json()["items"]
    assert len(entries(session, action="case.read")) == before


def test_changing_a_case_is_not_recorded_as_a_read(client, tokens, session):
    case = create_case(client, tokens["guide"])
    response = client.patch(f"/api/v1/cases/{case['id']}", json={"priority": "high"},
                            headers={**bearer(tokens["guide"]), "If-Match": f'"{case["version"]}"'})
    assert response.status_code == 200, response.get_json()
    actions = [e.action for e in entries(session, entity_id=case["id"])]
    assert "case.updated" in actions and "case.read" not in actions
