"""Retention (gallring): erased content is gone, the report of its period is not changed,
holds stop erasure, the plan changes nothing, the trail holds no content."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from citizencenter.accounts.models import Department, User
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case, Message
from citizencenter.channels.email.models import (
    EmailAttachment,
    EmailKind,
    EmailMessage,
    QuarantinedEmail,
)
from citizencenter.channels.phone.models import Call, CallEvent, CallEventType
from citizencenter.channels.social.models import SocialConversation, SocialMessage
from citizencenter.cli import cli
from citizencenter.contacts.models import Contact, ContactIdentity
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.organisation.models import Category, Queue
from citizencenter.privacy import erasure
from citizencenter.privacy import service as privacy
from citizencenter.privacy.models import CaseErasure, IdentityNumber, RetentionRule
from citizencenter.privacy.retention import service as retention
from citizencenter.reports import service as reports
from tests.factories import bearer
from workers.schedule import beat_schedule

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
PERIOD = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
NUMBER = "19121212-1212"
SECRET_WORDS = ("Karin", "karin.ek@example.se", "+46701234567", "19121212", "intyg.pdf",
                "psid-4711", "rec/1.wav", "plank")
RULES = "/api/v1/retention/rules"


def _slug_id(session, model, slug):
    return session.scalar(select(model.id).where(model.slug == slug))


def _contact(session, name, email, phone):
    contact = Contact(name=name, email=email, phone=phone)
    session.add(contact)
    session.flush()
    return contact


def _case(session, *, channel, contact, received, category="bygglov", closed=True,
          first_response=timedelta(hours=3), department=True, rating=None):
    n = uuid.uuid4().hex[:8]
    guide = session.scalar(select(User.id).where(User.email == "anna.lindqvist@lund.example"))
    case = Case(reference=f"RET-{n}", channel=channel, subject=f"Plank {NUMBER} hos {n}",
                category_id=_slug_id(session, Category, category),
                contact_id=contact.id if contact else None,
                queue_id=_slug_id(session, Queue, "bygglov"),
                department_id=_slug_id(session, Department, "stadsbyggnad") if department
                else None,
                assignee_id=guide, received_at=received, resolved_at_first_contact=True,
                first_response_at=received + first_response if first_response else None,
                status="closed" if closed else "open",
                resolved_at=received + timedelta(days=2) if closed else None,
                closed_at=received + timedelta(days=3) if closed else None)
    session.add(case)
    session.flush()
    session.add_all([
        Message(case_id=case.id, direction="inbound", channel=channel,
                body=f"Får jag bygga ett plank? Mitt nummer är {NUMBER}.",
                channel_metadata={"headers": {"From": "karin.ek@example.se"}},
                created_at=received),
        Message(case_id=case.id, direction="outbound", channel=channel, body="Ja, 1,8 m.",
                channel_metadata={"auto": False, "email": {"status": "sent",
                                                           "message_id": "out@lund"}},
                created_at=received + timedelta(hours=3))])
    if rating:
        request = FeedbackRequest(case_id=case.id, channel=channel, nonce=n * 4, via="email",
                                  expires_at=received + timedelta(days=14))
        session.add(request)
        session.flush()
        session.add(FeedbackResponse(request_id=request.id, case_id=case.id, channel=channel,
                                     courtesy=rating, ease=4, clarity=3,
                                     submitted_at=received + timedelta(days=4)))
    session.flush()
    return case


def _email_parts(session, case):
    message = session.scalars(select(Message).where(Message.case_id == case.id)).first()
    email = EmailMessage(kind=EmailKind.INBOUND, dedupe_key=f"{case.id}@example.se",
                         case_id=case.id, conversation_message_id=message.id,
                         message_id=f"{case.id}@example.se", subject="Plank",
                         from_address="karin.ek@example.se", to_address="kc@lund.example",
                         html="<p>Plank, 19121212-XXXX</p>")
    session.add(email)
    session.flush()
    session.add(EmailAttachment(email_id=email.id, case_id=case.id, filename="intyg.pdf",
                                declared_type="application/pdf",
                                detected_type="application/pdf", size=9,
                                content=b"%PDF-1.4\n", sha256="ab" * 32))
    raw = (f"Message-ID: <{case.id}@example.se>\r\nFrom: karin.ek@example.se\r\n"
           f"Subject: Plank\r\n\r\nMitt nummer {NUMBER}\r\n").encode()
    # Stored by a retry before quarantined mail named its case: found by its Message-ID.
    session.add(QuarantinedEmail(reason="processing-error", size=len(raw),
                                 raw=privacy.seal_mail(raw), stored_at=case.received_at,
                                 error_message="karin.ek@example.se"))
    # Stored by a retry since: found by the case it names, whatever its headers say.
    session.add(QuarantinedEmail(reason="unparseable", size=len(raw),
                                 raw=privacy.seal_mail(raw.replace(b"@example.se>", b"@x>")),
                                 stored_at=case.received_at, stored_case_id=case.id,
                                 traceback="karin.ek@example.se"))


def _call(session, case, contact):
    entered = case.received_at
    session.add(Call(source="ret", call_id=f"c-{case.id}", queue="kontaktcenter",
                     caller=contact.phone, outcome="answered", entered_at=entered,
                     answered_at=entered + timedelta(seconds=40), wait_s=40.0, talk_s=180.0,
                     case_id=case.id, local_date=entered.date(), local_hour=entered.hour,
                     agent_user_id=case.assignee_id, updated_at=entered))
    session.add(CallEvent(source="ret", event_id=f"e-{case.id}", type=CallEventType.ANSWERED,
                          occurred_at=entered, call_id=f"c-{case.id}", queue="kontaktcenter",
                          caller=contact.phone,
                          metrics={"wait_s": 40, "recording_url": "https://pbx/rec/1.wav"},
                          raw={"caller": contact.phone}))


def _social(session, case, contact):
    message = session.scalars(select(Message).where(Message.case_id == case.id)).first()
    conversation = SocialConversation(platform="messenger", page_id="lund",
                                      citizen_id="psid-4711", contact_id=contact.id,
                                      case_id=case.id)
    session.add(conversation)
    session.add(ContactIdentity(contact_id=contact.id, kind="messenger", value="psid-4711"))
    session.flush()
    session.add(SocialMessage(mid=f"m-{case.id}", conversation_id=conversation.id,
                              case_id=case.id, message_id=message.id,
                              sent_at=case.received_at,
                              raw={"message": {"text": "Plank, 19121212-1212"}}))


@pytest.fixture
def world(session):
    """Old closed cases of every channel with content, and one live case of another person."""
    karin = _contact(session, "Karin Ek", "karin.ek@example.se", "+46701234567")
    olle = _contact(session, "Olle Berg", "olle@example.se", "+46709876543")
    january = PERIOD[0] + timedelta(days=8, hours=9)
    email = _case(session, channel="email", contact=karin, received=january, rating=5)
    _email_parts(session, email)
    phone = _case(session, channel="phone", contact=karin, first_response=None,
                  received=january + timedelta(days=2), department=False, rating=3)
    _call(session, phone, karin)
    social = _case(session, channel="social", contact=olle,
                   received=january + timedelta(days=3, hours=2))
    _social(session, social, olle)
    webform = _case(session, channel="webform", contact=None, category="avfall",
                    received=january + timedelta(days=9), first_response=timedelta(days=3))
    live = _case(session, channel="email", contact=olle, closed=False,
                 received=NOW - timedelta(days=2))
    olle_mail = b"Message-ID: <olle@example.se>\r\nFrom: olle@example.se\r\n\r\nPlank\r\n"
    session.add(QuarantinedEmail(reason="unparseable", size=len(olle_mail),
                                 raw=privacy.seal_mail(olle_mail), stored_at=NOW,
                                 stored_case_id=live.id))
    session.commit()
    return {"karin": karin, "olle": olle, "email": email, "phone": phone, "social": social,
            "webform": webform, "live": live, "old": [email, phone, social, webform]}


def _rule(session, months=12, **place):
    return retention.create_rule(session, "user:test", {"keep_months": months, **place})


def _report(session, app):
    figures = reports.service_measurement(session, *PERIOD, reports.report_settings(app.config),
                                          group_by="department")
    figures.pop("rollups_refreshed_at")
    return figures


def _stored_text(session, case_ids) -> str:
    """Everything stored for these cases that could hold content, as one text."""
    parts = []
    for model, column in ((Case, Case.id), (Message, Message.case_id),
                          (EmailMessage, EmailMessage.case_id),
                          (EmailAttachment, EmailAttachment.case_id),
                          (SocialMessage, SocialMessage.case_id), (Call, Call.case_id)):
        for row in session.scalars(select(model).where(column.in_(case_ids))):
            parts.append(json.dumps({c.key: getattr(row, c.key) for c in model.__table__.c},
                                    default=str))
    calls = [f"c-{i}" for i in case_ids]
    for row in session.scalars(select(CallEvent).where(CallEvent.call_id.in_(calls))):
        parts.append(json.dumps([row.caller, row.metrics, row.raw]))
    return "\n".join(parts)


def test_erasing_a_period_leaves_its_report_unchanged_and_its_content_gone(app, session,
                                                                           world):
    reports.refresh_rollups(session, app.config)
    before = _report(session, app)
    assert before["overall"]["cases_received"]["value"] >= 4
    old_ids = [c.id for c in world["old"]]
    assert session.scalar(select(func.count()).select_from(IdentityNumber)
                          .where(IdentityNumber.case_id.in_(old_ids))) >= 4
    _rule(session)

    result = retention.run(session, batch_size=2, max_batches=10, now=NOW)

    assert result["erased"] == 4 and result["still_due"] == 0
    reports.refresh_rollups(session, app.config)
    assert _report(session, app) == before  # the incremental refresh re-read every case
    reports.refresh_rollups(session, app.config, rebuild=True)
    assert _report(session, app) == before  # and the facts rebuilt from the tables agree

    stored = _stored_text(session, old_ids)
    for word in SECRET_WORDS:
        assert word not in stored, word
    assert session.scalar(select(func.count()).select_from(IdentityNumber)
                          .where(IdentityNumber.case_id.in_(old_ids))) == 0
    attachment = session.scalar(select(EmailAttachment)
                                .where(EmailAttachment.case_id == world["email"].id))
    assert (attachment.content, attachment.filename, attachment.size) == (None, None, 9)
    quarantined = session.scalars(select(QuarantinedEmail).where(
        QuarantinedEmail.stored_case_id.is_distinct_from(world["live"].id))).all()
    assert len(quarantined) == 2
    assert all(q.raw is None and q.error_message is None and q.traceback is None
               for q in quarantined)
    assert session.scalar(select(QuarantinedEmail.raw).where(  # Olle's live case keeps his
        QuarantinedEmail.stored_case_id == world["live"].id)) is not None
    # Facts stay: times, waits, scores, the acknowledgement flag and delivery status.
    call = session.scalar(select(Call).where(Call.case_id == world["phone"].id))
    assert (call.wait_s, call.talk_s, call.outcome, call.caller) == (40.0, 180.0, "answered",
                                                                     None)
    event = session.scalar(select(CallEvent).where(CallEvent.call_id == call.call_id))
    assert event.metrics == {"wait_s": 40} and event.raw is None
    reply = session.scalars(select(Message).where(Message.case_id == world["email"].id)
                            .order_by(Message.id)).all()[1]
    assert reply.channel_metadata == {"auto": False, "email": {"status": "sent"}}
    assert session.scalar(select(FeedbackResponse.courtesy)
                          .where(FeedbackResponse.case_id == world["email"].id)) == 5
    # Karin has no case left with content; Olle still has a live one.
    karin, olle = session.get(Contact, world["karin"].id), session.get(Contact, world["olle"].id)
    assert (karin.name, karin.email, karin.phone) == (None, None, None)
    assert (olle.name, olle.email) == ("Olle Berg", "olle@example.se")
    assert session.get(Case, world["live"].id).subject.startswith("Plank")
    assert session.scalar(select(SocialConversation.citizen_id)
                          .where(SocialConversation.contact_id == olle.id)) == "psid-4711"


def test_the_plan_names_what_is_due_and_changes_nothing(app, session, world):
    _rule(session)
    audit_rows = session.scalar(select(func.count()).select_from(AuditEntry))

    plan = retention.plan(session, now=NOW)

    assert plan["total"] == 4
    assert sorted(plan["rules"][0]["references"]) == sorted(c.reference for c in world["old"])
    assert session.scalar(select(func.count()).select_from(CaseErasure)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows
    assert session.get(Case, world["email"].id).subject.startswith("Plank")
    assert "Plank" not in json.dumps(plan, default=str)  # references only, no content
    # Not yet due a month earlier than the rule's 12 months.
    assert retention.plan(session, now=PERIOD[0] + timedelta(days=370))["total"] == 0


def test_holds_stop_erasure_until_released(app, session, world):
    _rule(session)
    on_case = retention.hold(session, "user:test", reason="JO-anmälan",
                             case_id=world["webform"].id)
    retention.hold(session, "user:test", reason="Tvist", contact_id=world["karin"].id)
    assert erasure.is_held(session, world["email"]) and erasure.is_held(session,
                                                                        world["webform"])

    plan = retention.plan(session, now=NOW)
    assert (plan["total"], plan["rules"][0]["held"]) == (1, 3)
    assert retention.run(session, batch_size=10, max_batches=5, now=NOW)["erased"] == 1
    assert session.get(Case, world["email"].id).subject.startswith("Plank")
    with pytest.raises(erasure.CaseHeld):
        erasure.erase_case(session, world["webform"], reason="gdpr")

    retention.release(session, "user:test", on_case.id)
    assert retention.run(session, batch_size=10, max_batches=5, now=NOW)["erased"] == 1
    assert session.get(Case, world["webform"].id).subject == erasure.ERASED_SUBJECT
    assert session.get(Contact, world["karin"].id).name == "Karin Ek"


def test_the_most_specific_rule_covers_a_case(app, session, world):
    default = _rule(session, 120)
    bygglov = _rule(session, 12, category="bygglov")
    email = _rule(session, 60, channel="email")
    pair = _rule(session, 13, category="bygglov", channel="email")

    plan = {r["rule_id"]: r for r in retention.plan(session, now=NOW)["rules"]}

    assert [r.id for r in retention.list_rules(session)] == [pair.id, bygglov.id, email.id,
                                                             default.id]
    assert plan[pair.id]["references"] == [world["email"].reference]
    assert sorted(plan[bygglov.id]["references"]) == sorted(
        [world["phone"].reference, world["social"].reference])
    assert plan[default.id]["count"] == 0  # the web form's avfall case: 120 months
    assert plan[email.id]["count"] == 0


def test_erasure_is_audited_once_without_content_and_is_idempotent(app, session, world):
    _rule(session)
    retention.run(session, batch_size=10, max_batches=1, now=NOW)

    again = erasure.erase_case(session, world["email"], reason="gdpr")

    assert again.already and again.reason == retention.RETENTION_REASON
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case.erased",
        AuditEntry.entity_id == str(world["email"].id))).all()
    assert len(entries) == 1
    assert set(entries[0].data) == {"reference", "rule_id", "reason", "contact_erased"}
    trail = json.dumps([e.data for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "case.erased"))])
    for word in SECRET_WORDS + ("Plank", "19121212"):
        assert word not in trail


def test_rules_api_for_supervisors_with_problem_json_for_bad_input(app, client, session,
                                                                  tokens):
    supervisor = bearer(tokens["supervisor"])
    created = client.post(RULES, json={"category": "bygglov", "keep_months": 24},
                          headers=supervisor)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert (rule["category"], rule["channel"], rule["keep_months"]) == ("bygglov", None, 24)
    changed = client.patch(f"{RULES}/{rule['id']}", json={"channel": "email"},
                           headers=supervisor)
    assert changed.get_json()["channel"] == "email"
    assert client.get(RULES, headers=supervisor).get_json()["items"][0]["id"] == rule["id"]
    assert client.get("/api/v1/retention/plan", headers=supervisor).status_code == 200

    for body, field in (({"keep_months": 0}, "keep_months"),
                        ({"keep_months": "12"}, "keep_months"),
                        ({"keep_months": 12, "category": "okänd"}, "category"),
                        ({"keep_months": 12, "channel": "fax"}, "channel"),
                        ({"keep_months": 12, "forever": True}, "forever"),
                        ({}, "keep_months")):
        response = client.post(RULES, json=body, headers=supervisor)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert field in json.dumps(response.get_json()), body
    duplicate = client.post(RULES, json={"category": "bygglov", "channel": "email",
                                         "keep_months": 6}, headers=supervisor)
    assert duplicate.status_code == 409 and duplicate.mimetype == "application/problem+json"
    assert client.patch(f"{RULES}/{rule['id']}", json={}, headers=supervisor).status_code == 422
    assert client.get(f"{RULES}/999999", headers=supervisor).status_code == 404
    for role in ("guide", "department"):
        assert client.post(RULES, json={"keep_months": 12},
                           headers=bearer(tokens[role])).status_code == 403
        assert client.get("/api/v1/retention/plan",
                          headers=bearer(tokens[role])).status_code == 403
    assert client.delete(f"{RULES}/{rule['id']}", headers=supervisor).status_code == 204
    assert session.get(RetentionRule, rule["id"]) is None
    actions = set(session.scalars(select(AuditEntry.action)
                                  .where(AuditEntry.entity_type == "retention_rule")))
    assert actions == {"retention_rule.created", "retention_rule.changed",
                       "retention_rule.deleted"}


def test_holds_api(app, client, session, tokens, world):
    supervisor = bearer(tokens["supervisor"])
    placed = client.post("/api/v1/retention/holds", headers=supervisor,
                         json={"contact_id": world["olle"].id, "reason": "Begäran från JO"})
    assert placed.status_code == 201, placed.get_json()
    assert erasure.is_held(session, world["social"])
    both = client.post("/api/v1/retention/holds", headers=supervisor,
                       json={"contact_id": 1, "case_id": str(world["email"].id),
                             "reason": "x"})
    assert both.status_code == 422 and both.mimetype == "application/problem+json"
    assert client.post("/api/v1/retention/holds", headers=bearer(tokens["guide"]),
                       json={"contact_id": 1, "reason": "x"}).status_code == 403
    released = client.delete(f"/api/v1/retention/holds/{placed.get_json()['id']}",
                             headers=supervisor)
    assert released.get_json()["active"] is False
    assert not erasure.is_held(session, world["social"])
    trail = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "legal_hold"))
    assert [e.action for e in trail] == ["legal_hold.placed", "legal_hold.released"]


def test_cli_plan_and_run_and_the_nightly_schedule(app, session, world):
    _rule(session)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["retention", *args], obj=ScriptInfo(create_app=lambda: app),
                             catch_exceptions=False)

    planned = invoke("plan")
    assert planned.exit_code == 0 and world["email"].reference in planned.output
    assert "Plank" not in planned.output
    assert session.scalar(select(func.count()).select_from(CaseErasure)) == 0
    ran = invoke("run", "--batch-size", "3")
    assert ran.exit_code == 0 and "erased 4 cases; 0 still due" in ran.output
    entry = beat_schedule(app.config)["retention-run"]
    assert entry["task"] == "retention.run"
    assert entry["schedule"].hour == {app.config["RETENTION_RUN_HOUR_UTC"]}


def test_a_case_reopened_after_its_erasure_is_erased_again_when_due(app, session, world):
    _rule(session)
    retention.run(session, batch_size=10, max_batches=1, now=NOW)
    case = world["email"]
    session.add(Message(case_id=case.id, direction="inbound", channel="email",
                        body="Karin igen: staketet blev 2 m.", created_at=NOW + timedelta(days=1)))
    case.closed_at = NOW + timedelta(days=2)
    session.commit()
    assert retention.plan(session, now=NOW + timedelta(days=300))["total"] == 0

    later = NOW + timedelta(days=400)
    assert retention.plan(session, now=later)["rules"][0]["references"] == [case.reference]
    assert retention.run(session, batch_size=10, max_batches=1, now=later)["erased"] == 1

    assert "Karin" not in _stored_text(session, [case.id])
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "case.erased", AuditEntry.entity_id == str(case.id))) == 2
    assert erasure.erase_case(session, case, reason="gdpr").already
