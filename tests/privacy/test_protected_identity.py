"""Protected identity (skyddade personuppgifter): a protected contact's cases exist only for
holders of the protected permission, on every endpoint and page that can show a case.

The callers are the demo's guide, supervisor and department staff and an admin token, each
once without the permission and once as a user (or token) granted it. Cases come in by
e-mail from one citizen, forwarded to the department staff's department, as in the access
matrix (tests/test_access_matrix.py), whose operations and rules are reused here.
"""

import email
import email.policy
import re
import secrets
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from citizencenter.accounts import service as accounts
from citizencenter.accounts.models import User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Case
from citizencenter.channels.email import outbound
from citizencenter.channels.email.inbound import MAIL_ACTOR
from citizencenter.channels.email.models import EmailAttachment
from citizencenter.channels.phone.models import Call, CallOutcome
from citizencenter.channels.social.service import META
from citizencenter.channels.webform.service import WEBFORM
from citizencenter.contacts.models import Contact
from citizencenter.db import utcnow
from citizencenter.feedback import service as feedback
from citizencenter.feedback import sms
from citizencenter.organisation.models import Queue
from citizencenter.routing import assignment
from citizencenter.routing.models import GuideProfile, Presence
from citizencenter.workspace import service as workspace
from tests.channels.email.helpers import citizen_mail
from tests.conftest import running_smtp
from tests.factories import bearer
from tests.test_access_matrix import CASE_SCOPED, OPERATIONS, SERVICE_RULES, World
from tests.workspace.conftest import add_timer

CITIZEN = "skyddad.person@example.se"
KINDS = ("guide", "supervisor", "department", "admin")
WITHOUT = KINDS
WITH = tuple(f"{kind}+" for kind in KINDS)
CASE_OPERATIONS = [op for op in OPERATIONS if CASE_SCOPED & set(re.findall(r"{(\w+)}", op[1]))]
HTTPS = "https://localhost"


@pytest.fixture
def people(client, session, tokens) -> dict:
    """Tokens and user ids per caller; the '+' ones granted the permission by an admin."""
    demo = {"guide": "anna.lindqvist@lund.example", "supervisor": "maria.svensson@lund.example",
            "department": "johan.berg@lund.example"}
    users = {kind: session.scalar(select(User).where(User.email == address))
             for kind, address in demo.items()}
    issued = {kind: tokens[kind] for kind in KINDS}
    for kind, department in (("guide", None), ("supervisor", None),
                             ("department", "stadsbyggnad")):
        user = accounts.create_user(session, f"{kind}.{secrets.token_hex(4)}@lund.example",
                                    f"Behörig {kind}", kind, department)
        granted = client.put(f"/api/v1/users/{user.id}/protected-access",
                             headers=bearer(tokens["admin"]))
        assert granted.status_code == 200 and granted.get_json()["protected_access"] is True
        users[f"{kind}+"] = user
        issued[f"{kind}+"] = accounts.create_token(session, f"behörig {kind}",
                                                   user_email=user.email)[1]
    issued["admin+"] = accounts.create_token(session, "behörig admin", role="admin",
                                             scopes=["cases:protected"])[1]
    return {"tokens": issued, "users": users}


@pytest.fixture
def world(app, client, session, people) -> World:
    # The cases are brought in and forwarded by callers who may see them afterwards.
    made = World(app, client, session, {"admin": people["tokens"]["admin+"],
                                        "guide": people["tokens"]["guide+"]})
    made.user_id = people["users"]["guide+"].id
    return made


def _protect(client, session, tokens, contact_id: int, kind="skyddad_folkbokforing"):
    response = client.put(f"/api/v1/contacts/{contact_id}/protection", json={"kind": kind},
                          headers=bearer(tokens["supervisor"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _mail_in(client, token: str, subject: str, sender: str = CITIZEN) -> uuid.UUID:
    posted = client.post("/api/v1/integrations/email/mime", data=citizen_mail(
        subject, sender=sender, name="Sara Skyddad"), headers={
        **bearer(token), "Content-Type": "message/rfc822"})
    assert posted.status_code == 201, posted.get_json()
    return uuid.UUID(posted.get_json()["case_id"])


@pytest.fixture
def protected(client, session, people) -> dict:
    """A protected citizen's case, forwarded to stadsbyggnad, with a personnummer in it."""
    tokens = people["tokens"]
    case_id = _mail_in(client, tokens["admin+"], "Plank 19121212-1212 mot gatan")
    contact_id = session.scalar(select(Case.contact_id).where(Case.id == case_id))
    _protect(client, session, tokens, contact_id)
    forwarded = client.post(f"/api/v1/cases/{case_id}/forward", headers=bearer(tokens["guide+"]),
                            json={"department": "stadsbyggnad", "note": "Till er."})
    assert forwarded.status_code == 201, forwarded.get_json()
    reference = session.scalar(select(Case.reference).where(Case.id == case_id))
    return {"case_id": case_id, "contact_id": contact_id, "reference": reference}


def _principal(session, token):
    return accounts.authenticate(session, token)


# --- marking a contact and granting the permission --------------------------------------


def test_supervisors_mark_and_lift_a_protection_audited(client, session, tokens):
    contact = Contact(name="Sara Skyddad", email="sara.s@example.se")
    session.add(contact)
    session.commit()
    url = f"/api/v1/contacts/{contact.id}/protection"
    assert client.put(url, json={"kind": "sekretessmarkering"},
                      headers=bearer(tokens["guide"])).status_code == 403
    assert client.put(url, json={"kind": "sekretessmarkering"},
                      headers=bearer(tokens["department"])).status_code == 403
    bad = client.put(url, json={"kind": "hemlig"}, headers=bearer(tokens["supervisor"]))
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert client.put("/api/v1/contacts/999999999/protection", json={
        "kind": "sekretessmarkering"}, headers=bearer(tokens["supervisor"])).status_code == 404
    marked = _protect(client, session, tokens, contact.id, "fingerade_personuppgifter")
    supervisor = _principal(session, tokens["supervisor"])
    assert marked["protection"] == "fingerade_personuppgifter"
    assert marked["protected_by"] == supervisor.actor and marked["protected_at"]
    assert "name" not in marked and "email" not in marked
    assert client.delete(url, headers=bearer(tokens["admin"])).status_code == 204
    session.expire_all()
    assert session.get(Contact, contact.id).protection is None
    trail = session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.data).where(
        AuditEntry.entity_type == "contact", AuditEntry.entity_id == str(contact.id))
        .order_by(AuditEntry.id)).all()
    assert [(a, who) for a, who, _ in trail] == [("contact.protected", supervisor.actor),
                                                ("contact.unprotected", "token:" + str(
                                                    _principal(session, tokens["admin"])
                                                    .token_id))]
    assert "Sara" not in str(trail) and "sara.s" not in str(trail)


def test_only_admins_grant_the_permission_and_no_role_holds_it(client, session, tokens):
    anna = session.scalar(select(User).where(User.email == "anna.lindqvist@lund.example"))
    url = f"/api/v1/users/{anna.id}/protected-access"
    for kind in ("guide", "supervisor", "department"):
        assert client.put(url, headers=bearer(tokens[kind])).status_code == 403
    for kind in KINDS:  # the admin's "*" does not imply it either
        assert not _principal(session, tokens[kind]).sees_protected
    # The system's own intake files a protected citizen's messages in their cases.
    assert all(actor.sees_protected for actor in (accounts.SYSTEM, MAIL_ACTOR, META, WEBFORM))
    assert client.put(url, headers=bearer(tokens["admin"])).status_code == 200
    assert _principal(session, tokens["guide"]).sees_protected  # the next request sees it
    assert client.delete(url, headers=bearer(tokens["admin"])).get_json() == {
        "id": anna.id, "protected_access": False}
    assert not _principal(session, tokens["guide"]).sees_protected
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == str(anna.id))
        .order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["user.protected_access_granted", "user.protected_access_withdrawn"]


# --- the role x endpoint matrix ------------------------------------------------------------


def _allowed(world, operation, kind: str, principal) -> set[int] | str:
    """What the access rules answer a caller permitted to see the case."""
    if not principal.has_scope(world.scopes[operation]):
        return {403}
    return SERVICE_RULES.get(operation, {}).get(kind.rstrip("+")) or "allowed"


@pytest.mark.parametrize("operation", CASE_OPERATIONS,
                         ids=[f"{m} {p}" for m, p in CASE_OPERATIONS])
def test_every_case_operation_answers_404_without_the_permission(client, session, people,
                                                                 world, protected, operation):
    method, path = operation
    tokens = people["tokens"]
    wrong, shared = [], None
    for kind in WITHOUT + WITH:
        # A change made by one caller must not decide the next one's answer.
        case = protected_case(world) if method != "GET" or not shared else shared
        shared = shared or case
        principal = _principal(session, tokens[kind])
        response = world.request(method, path, tokens[kind], case)
        status = response.status_code
        if kind in WITHOUT:
            # Not there at all; a caller whose scope or role forbids the operation hears so
            # before the case is looked up, which says nothing of it either.
            ok = status == 404 or (status == 403 and _allowed(world, operation, kind,
                                                               principal) == {403})
        else:
            expected = _allowed(world, operation, kind, principal)
            ok = (status < 500 and status not in (401, 403, 404)) if expected == "allowed" \
                else status in expected
        if not ok:
            wrong.append(f"{kind}: {status}")
    assert wrong == [], f"{method} {path}: " + "; ".join(wrong)


def protected_case(world) -> dict:
    """Another case of the protected citizen, with an attachment, forwarded to stadsbyggnad."""
    raw = citizen_mail("Plank mot gatan", sender=CITIZEN, name="Sara Skyddad", attachment=(
        "ritning.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"))
    posted = world.client.post("/api/v1/integrations/email/mime", data=raw, headers={
        **bearer(world.tokens["admin"]), "Content-Type": "message/rfc822"})
    assert posted.status_code == 201, posted.get_json()
    case_id = posted.get_json()["case_id"]
    forwarded = world.client.post(f"/api/v1/cases/{case_id}/forward",
                                  headers=bearer(world.tokens["guide"]),
                                  json={"department": "stadsbyggnad", "note": "Till er."})
    assert forwarded.status_code == 201, forwarded.get_json()
    attachment = world.session.scalar(select(EmailAttachment.id).where(
        EmailAttachment.case_id == uuid.UUID(case_id)))
    return {"case_id": case_id, "attachment_id": attachment}


def test_lists_searches_and_counts_leave_the_case_out_without_the_permission(
        client, session, people, protected):
    tokens, case_id = people["tokens"], str(protected["case_id"])
    add_timer(session, protected["case_id"], due_in_min=5, warn_in_min=-5,  # at risk
              warned_at=utcnow() - timedelta(minutes=5))
    session.commit()
    for kind in WITHOUT + WITH:
        token = bearer(tokens[kind])
        principal = _principal(session, tokens[kind])
        seen = {
            "list": [i["id"] for i in client.get("/api/v1/cases?limit=100",
                                                 headers=token).get_json()["items"]],
            "q": [i["id"] for i in client.get("/api/v1/cases?q=Plank",
                                              headers=token).get_json()["items"]],
            "personnummer": [i["id"] for i in client.post(
                "/api/v1/cases/by-identity-number", json={"personnummer": "191212121212"},
                headers=token).get_json()["items"]],
        }
        if principal.has_scope("routing:read"):
            at_risk = client.get("/api/v1/sla/at-risk", headers=token)
            assert at_risk.status_code == 200, at_risk.get_json()
            seen["at-risk"] = [i.get("case_id") or i.get("id")
                               for i in at_risk.get_json()["items"]]
        permitted = kind in WITH
        wrong = {name: ids for name, ids in seen.items() if (case_id in ids) != permitted}
        assert wrong == {}, f"{kind}: {wrong}"


def test_claiming_and_routing_give_a_protected_case_only_to_a_permitted_guide(
        client, session, people, world):
    tokens, users = people["tokens"], people["users"]
    session.execute(update(GuideProfile).values(presence=Presence.OFFLINE))
    session.commit()
    case_id = _mail_in(client, tokens["admin+"], "Fråga om färdtjänst")
    contact_id = session.scalar(select(Case.contact_id).where(Case.id == case_id))
    _protect(client, session, tokens, contact_id)
    session.execute(update(Case).where(Case.id == case_id).values(
        assignee_id=None, waiting_since=utcnow() - timedelta(hours=5), status=CaseStatus.OPEN,
        priority="urgent", department_id=None, queue_id=select(Queue.id).where(
            Queue.slug == "epost").scalar_subquery()))
    session.commit()
    claimed = client.post("/api/v1/routing/claim", headers=bearer(tokens["guide"]))
    assert claimed.status_code in (200, 204)
    assert case_id.hex not in (claimed.get_data(as_text=True) or "").replace("-", "")
    assert session.scalar(select(Case.assignee_id).where(Case.id == case_id)) != \
        users["guide"].id
    # Pushed by routing: the guide without the permission is passed over for it.
    for user in (users["guide"], users["guide+"]):
        profile = session.get(GuideProfile, user.id) or GuideProfile(user_id=user.id)
        profile.presence, profile.idle_since = Presence.AVAILABLE, utcnow() - timedelta(
            hours=1 if user is users["guide"] else 0)
        profile.skills = ["channel:email", "language:sv"]
        profile.capacities, profile.queue_ids = {"email": 5}, []
        session.add(profile)
    session.commit()
    case = assignment.lock_case(session, case_id, skip=False)
    outcome = assignment.try_assign(session, case)
    fits = {c["user_id"]: c["fit"] for c in outcome.candidates}
    assert fits[users["guide"].id] == "protected_identity"
    assert outcome.assigned_to == users["guide+"].id
    session.rollback()
    case = assignment.lock_case(session, case_id, skip=False)
    assignment.assign_batch(session, [case])
    assert case.assignee_id == users["guide+"].id
    session.rollback()


# --- the pages -----------------------------------------------------------------------------


def _signed_in(app, client, session, user: User):
    """Signed in as `user` (a session as the sign-in page starts one)."""
    user.password_hash = user.password_hash or "signs in with a password elsewhere"
    session.commit()
    sid = secrets.token_urlsafe(32)
    app.extensions["web_redis"].set("web-session:" + sid, user.id, ex=600)
    with client.session_transaction(base_url=HTTPS) as cookie:
        cookie["sid"] = sid


def test_the_pages_show_the_case_only_with_the_permission(app, client, session, people,
                                                          protected):
    users, case_id = people["users"], protected["case_id"]
    reference, link = protected["reference"], f'href="/cases/{case_id}"'
    for kind in ("guide", "supervisor", "department", "guide+", "supervisor+", "department+"):
        user = users[kind]
        # Assigned to the very user: their own work, still not theirs to see without it.
        session.execute(update(Case).where(Case.id == case_id).values(
            assignee_id=user.id, status=CaseStatus.OPEN))
        session.commit()
        _signed_in(app, client, session, user)
        permitted = kind.endswith("+")
        pages = {path: client.get(path, base_url=HTTPS) for path in (
            "/", "/worklist/rows", f"/search?q={reference}", "/search?q=Plank",
            "/search?q=Skyddad", f"/cases/{case_id}", f"/cases/{case_id}/sla-ledger")}
        wrong = {}
        for path, page in pages.items():
            if path.startswith("/cases/"):
                if page.status_code != (200 if permitted else 404):
                    wrong[path] = page.status_code
            elif page.status_code != 200 or (link in page.text) != permitted:
                wrong[path] = (page.status_code, link in page.text)
        assert wrong == {}, f"{kind}: {wrong}"
        if permitted:  # the guide is told why the citizen is handled with care
            assert "Skyddad folkbokföring" in pages[f"/cases/{case_id}"].text
            shown = client.get(f"/api/v1/cases/{case_id}", headers=bearer(
                people["tokens"][kind])).get_json()
            assert shown["contact"]["protection"] == "skyddad_folkbokforing"


def _answered_call(session, guide: User, caller: str, case_id=None) -> Call:
    call = Call(source="test", call_id=f"skydd-{secrets.token_hex(4)}", caller=caller,
                queue="kontaktcenter", agent_user_id=guide.id, outcome=CallOutcome.ANSWERED,
                case_id=case_id, entered_at=utcnow() - timedelta(seconds=60),
                answered_at=utcnow() - timedelta(seconds=30))
    session.add(call)
    session.commit()
    return call


def test_the_screen_pop_shows_skyddad_identitet_without_name_number_or_history(
        app, client, session, people, protected):
    users = people["users"]
    caller = f"+4670{secrets.randbelow(10**7):07d}"
    contact = session.get(Contact, protected["contact_id"])
    contact.phone = caller
    session.commit()
    for kind in ("guide", "guide+", "supervisor"):
        call = _answered_call(session, users[kind] if kind != "supervisor" else users["guide"],
                              caller, protected["case_id"])
        actor = _principal(session, people["tokens"][kind])
        pop = workspace.screen_pop(session, actor, call.id)
        if kind.endswith("+"):
            assert pop.protected is False and pop.contact.id == contact.id
            assert [c.id for c in pop.open_cases] == [protected["case_id"]]
            continue
        assert pop.protected is True and pop.contact is None and pop.case_id is None
        assert pop.open_cases == [] and pop.recent_cases == [] and caller not in pop.caller
        _signed_in(app, client, session, users[kind])
        page = client.get(f"/workspace/calls/{call.id}/pop", base_url=HTTPS)
        assert page.status_code == 200 and "Skyddad identitet" in page.text
        for secret in ("Sara", CITIZEN, caller, caller[3:], protected["reference"]):
            assert secret not in page.text, secret
        if kind == "guide":  # the register form keeps the name and address out too
            form = client.get(f"/register?call={call.id}", base_url=HTTPS)
            assert form.status_code == 200 and "Sara" not in form.text \
                and CITIZEN not in form.text


# --- no automatic message that could reveal the case -------------------------------------


def _record(envelope):
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def test_no_acknowledgement_or_feedback_request_reaches_a_protected_contact(
        app, client, session, people, protected):
    tokens = people["tokens"]
    with running_smtp(_record) as inbox:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port,
                  "SMTP_TIMEOUT_S": 5}
        # A new inquiry from the protected citizen: no receipt.
        case_id = _mail_in(client, tokens["admin+"], "Ny fråga om bygglov")
        assert outbound.send_acknowledgement(session, case_id, config) == "protected-identity"
        assert outbound.send_acknowledgement(session, protected["case_id"], config) \
            == "protected-identity"
        # Resolved: no feedback request, by mail or SMS, and none owed.
        session.execute(update(Case).where(Case.id == case_id).values(
            status=CaseStatus.RESOLVED, resolved_at=utcnow()))
        session.commit()
        texts = sms.MemorySms()
        links = feedback.LinkSettings(app.config["SECRET_KEY"], timedelta(days=14),
                                      "https://medborgarcenter.example")
        assert feedback.request_feedback(session, case_id, links, config, texts) is None
        assert case_id not in feedback.owed_requests(
            session, utcnow() - timedelta(days=1), utcnow() + timedelta(minutes=1), True, 100)
        # The same for an unprotected citizen does send: the sink is listening.
        other = _mail_in(client, tokens["admin+"], "Fråga om parkering",
                         sender=f"vanlig.{secrets.token_hex(3)}@example.se")
        assert outbound.send_acknowledgement(session, other, config) == "sent"
    recipients = [m["To"] for m in inbox.messages]
    assert not any(CITIZEN in (to or "") for to in recipients), recipients
    assert len(inbox.messages) == 1 and texts.sent == []


def test_a_department_notification_leaves_out_a_protected_contacts_subject(
        app, session, people, protected):
    from citizencenter.routing import notifications
    from citizencenter.routing.models import CaseForwarding

    forwarding = session.scalar(select(CaseForwarding).where(
        CaseForwarding.case_id == protected["case_id"]))
    case = session.get(Case, protected["case_id"])
    message = notifications._email(case, forwarding, forwarding.department, app.config)
    assert "Plank" not in message.get_content() and "skyddad identitet" in message.get_content()


def test_aggregate_figures_still_count_a_protected_contacts_case(app, client, session, people):
    from citizencenter.dashboard import figures
    from citizencenter.reports.settings import report_settings
    from citizencenter.workspace import live

    tokens, anna = people["tokens"], people["users"]["guide"]
    case_id = _mail_in(client, tokens["admin+"], "Fråga om avfall",
                       sender=f"aggregat.{secrets.token_hex(3)}@example.se")
    session.execute(update(Case).where(Case.id == case_id).values(
        assignee_id=None, status=CaseStatus.NEW, first_response_at=None, department_id=None,
        waiting_since=utcnow() - timedelta(minutes=5), queue_id=select(Queue.id).where(
            Queue.slug == "epost").scalar_subquery()))
    profile = session.get(GuideProfile, anna.id) or GuideProfile(user_id=anna.id)
    profile.queue_ids = []  # every queue of the centre
    session.add(profile)
    session.commit()
    guide = _principal(session, tokens["guide"])

    def counted() -> tuple:
        now = utcnow()
        backlog = figures.live_figures(session, now, report_settings(app.config))
        session.rollback()
        return (backlog["email_backlog"]["count"], live.waiting_counts(session)["queues"],
                workspace.waiting_count(session, guide))

    before = counted()
    contact_id = session.scalar(select(Case.contact_id).where(Case.id == case_id))
    _protect(client, session, tokens, contact_id)
    after = counted()
    # The wallboard's backlog and the queues' waiting counts still hold it; the guide's own
    # count of cases they could take does not (they could not open it).
    assert after[:2] == before[:2]
    assert after[2] == before[2] - 1


def test_an_sla_warning_reaches_only_the_supervisors_permitted_to_see_the_case(
        app, session, people, protected):
    from citizencenter.sla import notifications
    from citizencenter.sla.enums import NotificationKind
    from citizencenter.sla.models import SlaNotification, SlaTimer

    add_timer(session, protected["case_id"], due_in_min=5, warn_in_min=-5)
    timer = session.scalar(select(SlaTimer).where(SlaTimer.case_id == protected["case_id"])
                           .order_by(SlaTimer.id.desc()).limit(1))
    warning = SlaNotification(timer_id=timer.id, case_id=protected["case_id"],
                              kind=NotificationKind.WARNING)
    session.add(warning)
    session.commit()
    with running_smtp(_record) as inbox:
        config = {**app.config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port,
                  "SMTP_TIMEOUT_S": 5}
        assert notifications.send_notification(session, warning.id, config) is True
    recipients = {address.strip() for m in inbox.messages for address in m["To"].split(",")}
    assert people["users"]["supervisor+"].email in recipients
    assert people["users"]["supervisor"].email not in recipients
