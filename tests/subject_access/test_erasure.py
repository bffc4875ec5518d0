"""GDPR art. 17: one person's data erased where nothing requires keeping it, and said so."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from citizencenter.accounts import service as accounts
from citizencenter.audit.models import AuditEntry
from citizencenter.cases.enums import CaseStatus
from citizencenter.cases.models import Message
from citizencenter.channels.email.models import EmailAttachment
from citizencenter.channels.phone.models import Call, CallEvent, CallEventType, CallOutcome
from citizencenter.cli import cli
from citizencenter.privacy import erasure
from citizencenter.privacy.models import IdentityNumber, LegalHold, RetentionRule
from tests.factories import bearer
from tests.subject_access.people import make_citizen
from tests.subject_access.test_export import _assert_everything_of, _identifiers, _open

URL = "/api/v1/personal-data/erasure"
EXPORT = "/api/v1/personal-data/export"


@pytest.fixture
def two(session):
    return make_citizen(session, "anna", "123", "4567"), make_citizen(session, "bo", "456", "4568")


@pytest.fixture
def decided(session, two):
    """A disposal decision (one month after closing) that both people's cases are past."""
    for person in two:
        for case in person.cases:
            case.closed_at = datetime.now(UTC) - timedelta(days=60)
    rule = RetentionRule(keep_months=1, created_by="test")
    session.add(rule)
    session.flush()
    return rule


def _caseless_call(session, person) -> Call:
    """A call from the person's number that never became a case."""
    moment = datetime.now(UTC) - timedelta(days=2)
    call = Call(source="test-pbx", call_id=f"lone-{person.call_id}", caller=person.phone,
                outcome=CallOutcome.ABANDONED, entered_at=moment, finished_at=moment,
                wait_s=3.0)
    session.add_all([call, CallEvent(source="test-pbx", event_id=f"lone-{person.call_id}-1",
                                     type=CallEventType.ABANDONED, occurred_at=moment,
                                     call_id=call.call_id, caller=person.phone,
                                     metrics={"wait_s": 3, "recording_url": "https://x/1"},
                                     raw={"caller": person.phone})])
    session.flush()
    return call


def _erase(client, tokens, token=None, **body):
    response = client.post(URL, json=body, headers=bearer(token or tokens["admin"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _items(report, key):
    return {(i["kind"], i["reference"] or i["id"]): i["reason"] for i in report[key]}


def test_a_dry_run_reports_and_changes_nothing_then_the_erasure_erases_it_all(
        client, session, tokens, two, decided, caplog):
    anna, bo = two
    lone = _caseless_call(session, anna)
    caplog.set_level(logging.DEBUG)
    planned = _erase(client, tokens, phone=anna.phone_national, dry_run=True)
    expected = {("case", c.reference): None for c in anna.cases}
    expected |= {("contact", str(anna.cases[0].contact_id)): None,
                 ("call", str(lone.id)): None}
    assert planned["dry_run"] is True
    assert _items(planned, "erased") == expected and planned["kept"] == []
    document, archive = _open(client.post(EXPORT, json={"email": anna.email},
                                          headers=bearer(tokens["admin"])).data)
    _assert_everything_of(document, archive, anna, bo)  # nothing erased by the dry run

    done = _erase(client, tokens, personnummer=anna.personnummer)
    assert done["dry_run"] is False
    assert _items(done, "erased") == expected and done["kept"] == []

    session.expire_all()
    mail_case, callback = anna.cases
    assert {mail_case.subject, callback.subject} == {erasure.ERASED_SUBJECT}
    assert all(m.body == "" for m in session.scalars(
        select(Message).where(Message.case_id == mail_case.id)))
    assert session.scalar(select(EmailAttachment.content).where(
        EmailAttachment.case_id == mail_case.id)) is None
    assert session.scalars(select(IdentityNumber).where(
        IdentityNumber.case_id == mail_case.id)).all() == []
    contact = mail_case.contact
    assert (contact.name, contact.email, contact.phone, contact.identities) == (
        None, None, None, [])
    assert session.get(Call, lone.id).caller is None
    [event] = session.scalars(select(CallEvent).where(CallEvent.call_id == lone.call_id))
    assert (event.caller, event.raw, event.metrics) == (None, None, {"wait_s": 3})
    # Nothing of hers is found any more; his is all there.
    for field, value in (("email", anna.email), ("phone", anna.phone),
                         ("personnummer", anna.personnummer)):
        document, _ = _open(client.post(EXPORT, json={field: value},
                                        headers=bearer(tokens["admin"])).data)
        assert (document["contacts"], document["cases"], document["calls"]) == ([], [], [])
    document, archive = _open(client.post(EXPORT, json={"email": bo.email},
                                          headers=bearer(tokens["admin"])).data)
    _assert_everything_of(document, archive, bo, anna)
    # The trail names what was erased, never who asked for it by what identifier.
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action.like("personal_data.%")).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "personal_data.erasure_planned", "personal_data.exported", "personal_data.erased",
        *["personal_data.exported"] * 4]
    logged = caplog.text + json.dumps([e.data for e in entries])
    for value in _identifiers(anna) + [anna.phone_national]:
        assert value not in logged


def test_held_open_and_retained_cases_are_kept_and_say_why(client, session, tokens, two,
                                                          decided):
    anna, bo = two
    mail_case, callback = anna.cases
    session.add(LegalHold(case_id=mail_case.id, reason="Överklagat", placed_by="test"))
    session.flush()
    report = _erase(client, tokens, email=anna.email)
    contact = str(mail_case.contact_id)
    assert _items(report, "kept") == {("case", mail_case.reference): "legal_hold",
                                      ("contact", contact): "cases_kept"}
    assert _items(report, "erased") == {("case", callback.reference): None}
    session.expire_all()
    assert mail_case.subject == anna.words["subject"]
    assert mail_case.contact.email == anna.email  # kept with the case it concerns
    assert callback.subject == erasure.ERASED_SUBJECT

    # Bo: one case still open, the other under a rule that keeps it two years after closing.
    bo_mail, bo_callback = bo.cases
    bo_mail.status = CaseStatus.OPEN
    bo_callback.closed_at = datetime.now(UTC) - timedelta(days=30)
    decided.keep_months = 24
    session.flush()
    report = _erase(client, tokens, email=bo.email, dry_run=False)
    kept = {(i["kind"], i["reference"] or i["id"]): i for i in report["kept"]}
    assert kept[("case", bo_mail.reference)]["reason"] == "open_case"
    retained = kept[("case", bo_callback.reference)]
    assert retained["reason"] == "retention_rule" and "24 months" in retained["detail"]
    assert report["erased"] == []
    # Past its keep time, the same rule no longer stands in the way.
    bo_callback.closed_at = datetime.now(UTC) - timedelta(days=3 * 366)
    session.flush()
    report = _erase(client, tokens, email=bo.email)
    assert _items(report, "erased") == {("case", bo_callback.reference): None}


def test_a_hold_on_the_contact_keeps_everything(client, session, tokens, two):
    anna, _ = two
    session.add(LegalHold(contact_id=anna.cases[0].contact_id, reason="Tvist",
                          placed_by="test"))
    session.flush()
    report = _erase(client, tokens, email=anna.email)
    assert report["erased"] == []
    assert set(_items(report, "kept").values()) == {"legal_hold"}


def test_the_command_erases_and_prints_the_report(app, session, two, decided, caplog):
    anna, _ = two
    caplog.set_level(logging.DEBUG)
    anna.cases[0].status = CaseStatus.OPEN
    session.flush()

    def run(*args):
        return CliRunner().invoke(cli, ["contact", "erase", "--email", anna.email, *args],
                                  obj=ScriptInfo(create_app=lambda: app),
                                  catch_exceptions=False)

    planned = run("--dry-run")
    assert planned.exit_code == 0, planned.output
    assert f"would erase case {anna.cases[1].reference}" in planned.output
    assert f"kept case {anna.cases[0].reference}: The case is open" in planned.output
    session.expire_all()
    assert anna.cases[1].subject != erasure.ERASED_SUBJECT
    done = run()
    assert f"erased case {anna.cases[1].reference}" in done.output
    for value in _identifiers(anna):
        assert value not in caplog.text + planned.output + done.output


@pytest.mark.parametrize("body, field", [
    ({"dry_run": True}, "identifier"),
    ({"email": "a@example.se", "dry_run": "yes"}, "dry_run"),
    ({"personnummer": "19800101-1235"}, "personnummer"),
])
def test_bad_input_is_a_problem(client, session, tokens, body, field):
    response = client.post(URL, json=body, headers=bearer(tokens["admin"]))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert "19800101-1235" not in response.get_data(as_text=True)


def test_only_administrators_erase(client, session, tokens, two):
    for role in ("guide", "supervisor", "department"):
        response = client.post(URL, json={"email": two[0].email},
                               headers=bearer(tokens[role]))
        assert response.status_code == 403


def test_a_protected_identity_keeps_what_recognises_the_person(client, session, tokens, two,
                                                              decided):
    anna, _ = two
    contact = anna.cases[0].contact
    contact.protection = "skyddad_folkbokforing"
    session.commit()  # a refusal rolls its request back, not the marking
    # An administrator without the protected permission reaches nothing of it.
    for url in (URL, EXPORT):
        refused = client.post(url, json={"email": anna.email}, headers=bearer(tokens["admin"]))
        assert refused.status_code == 403, (url, refused.status_code)
        assert refused.content_type == "application/problem+json"
        assert anna.email not in refused.get_data(as_text=True)
    session.expire_all()
    assert anna.cases[0].subject == anna.words["subject"]
    granted = accounts.create_token(session, "protected officer", role="admin",
                                    scopes=["cases:protected"])[1]
    assert client.post(EXPORT, json={"email": anna.email},
                       headers=bearer(granted)).status_code == 200
    planned = _erase(client, tokens, granted, email=anna.email, dry_run=True)
    done = _erase(client, tokens, granted, email=anna.email)
    for report in (planned, done):
        assert _items(report, "erased") == {("case", c.reference): None for c in anna.cases}
        assert _items(report, "kept") == {("contact", str(contact.id)): "protected_identity"}
    session.expire_all()
    assert {c.subject for c in anna.cases} == {erasure.ERASED_SUBJECT}
    assert (contact.name, contact.email, contact.phone, contact.protection) == (
        None, anna.email, anna.phone, "skyddad_folkbokforing")
    assert [(i.kind, i.value) for i in contact.identities] == [("messenger", anna.psid)]


def test_the_most_specific_rule_decides(client, session, tokens, two):
    anna, _ = two
    mail_case, callback = anna.cases
    for case in anna.cases:
        case.closed_at = datetime.now(UTC) - timedelta(days=60)
    session.add_all([RetentionRule(keep_months=36, created_by="test"),
                     RetentionRule(channel="phone", keep_months=1, created_by="test")])
    session.flush()
    report = _erase(client, tokens, email=anna.email, dry_run=True)
    assert _items(report, "erased") == {("case", callback.reference): None}
    assert _items(report, "kept") == {("case", mail_case.reference): "retention_rule",
                                      ("contact", str(mail_case.contact_id)): "cases_kept"}


def test_a_case_the_retention_run_erased_is_reported_as_erased_before(
        client, session, tokens, two, decided):
    anna, _ = two
    mail_case, callback = anna.cases
    erasure.erase_case(session, callback, reason="retention")
    session.flush()
    for dry_run in (True, False):
        report = _erase(client, tokens, email=anna.email, dry_run=dry_run)
        assert _items(report, "erased") == {("case", mail_case.reference): None,
                                            ("case", callback.reference): "already_erased",
                                            ("contact", str(mail_case.contact_id)): None}


def test_a_case_someone_else_raised_about_the_person_is_kept(client, session, tokens, two,
                                                             decided):
    from citizencenter.accounts.service import SYSTEM
    from citizencenter.cases import service as cases
    from citizencenter.cases.enums import Channel

    anna, bo = two
    about_anna = cases.add_case(
        session, SYSTEM, channel=Channel.EMAIL, subject="Om min mor",
        description=f"Mor {anna.personnummer} behöver hjälp.", contact=bo.cases[0].contact,
        status=CaseStatus.CLOSED)
    session.flush()
    report = _erase(client, tokens, personnummer=anna.personnummer)
    assert _items(report, "kept") == {("case", about_anna.reference): "raised_by_another"}
    assert set(_items(report, "erased")) == {("case", c.reference) for c in anna.cases} | {
        ("contact", str(anna.cases[0].contact_id))}
    session.expire_all()
    assert bo.cases[0].contact.email == bo.email


def test_a_case_no_retention_rule_covers_is_kept_as_a_public_record(client, session, tokens,
                                                                    two):
    anna, _ = two
    for case in anna.cases:
        case.closed_at = datetime.now(UTC) - timedelta(days=3 * 366)
    session.flush()
    report = _erase(client, tokens, email=anna.email)
    assert report["erased"] == []
    assert _items(report, "kept") == {
        **{("case", c.reference): "no_disposal_decision" for c in anna.cases},
        ("contact", str(anna.cases[0].contact_id)): "cases_kept"}
    session.expire_all()
    assert anna.cases[0].subject == anna.words["subject"]
