"""GDPR art. 15: everything held about one person, in one archive, and nobody else's."""

import io
import json
import logging
import zipfile

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from citizencenter.audit.models import AuditEntry
from citizencenter.cli import cli
from citizencenter.privacy.detection import masked
from tests.factories import bearer
from tests.subject_access.people import make_citizen

URL = "/api/v1/personal-data/export"


@pytest.fixture
def two(session):
    return make_citizen(session, "anna", "123", "4567"), make_citizen(session, "bo", "456", "4568")


def _open(content: bytes) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return json.loads(archive.read("personal-data.json")), archive


def _identifiers(person) -> list[str]:
    digits = person.personnummer.replace("-", "")
    return [person.email, person.phone, person.phone[3:], person.personnummer, digits,
            digits[2:], person.personnummer[2:]]


def _assert_everything_of(document: dict, archive: zipfile.ZipFile, person, other) -> None:
    text = json.dumps(document, ensure_ascii=False)
    for kind, word in person.words.items():
        if kind != "walkin":
            assert word in text, kind
    [contact] = document["contacts"]
    assert (contact["email"], contact["phone"]) == (person.email, person.phone)
    assert [i["value"] for i in contact["identities"]] == [person.psid]
    mail_case, callback = document["cases"]
    assert {c["reference"] for c in document["cases"]} == {c.reference for c in person.cases}
    # The number in clear for the person themself; the text keeps its mask.
    number = person.personnummer.replace("-", "")
    assert [n["number"] for n in mail_case["identity_numbers"]] == [number]
    assert masked(number) in mail_case["messages"][0]["body"]
    assert {m["direction"] for m in mail_case["messages"]} == {"inbound", "internal",
                                                               "outbound"}
    assert {e["kind"] for e in mail_case["emails"]} == {"inbound", "reply"}
    [reply] = [e for e in mail_case["emails"] if e["kind"] == "reply"]
    assert person.words["reply"].encode() in archive.read(reply["file"])
    [attachment] = mail_case["attachments"]
    assert attachment["file"].startswith("attachments/") and ".." not in attachment["file"]
    assert archive.read(attachment["file"]) == person.attachment
    assert [(r["courtesy"], r["ease"], r["clarity"])
            for r in mail_case["feedback_responses"]] == [(4, 5, 3)]
    assert len(mail_case["feedback_requests"]) == 1
    assert "nonce" not in mail_case["feedback_requests"][0]  # the link's secret stays ours
    [call] = [c for c in document["calls"] if c["call_id"] == person.call_id]
    assert call["call_id"] == person.call_id and call["callback_case_id"] == callback["id"]
    assert [e["type"] for e in call["events"]] == ["call.abandoned"]
    [conversation] = document["social_conversations"]
    assert conversation["citizen_id"] == person.psid
    assert conversation["messages"][0]["raw"]["message"]["text"] == person.words["social"]
    assert [a["address"] for a in document["acknowledgements"]] == [person.email]
    # Nothing of the other citizen, in the document or any file.
    everything = text + "".join(archive.read(n).decode("latin-1") for n in archive.namelist())
    for value in [*other.words.values(), other.psid, other.call_id, *_identifiers(other),
                  *(c.reference for c in other.cases)]:
        assert value not in everything
    assert other.attachment[:20] not in b"".join(archive.read(n) for n in archive.namelist())


@pytest.mark.parametrize("field", ["email", "phone", "personnummer"])
def test_the_archive_holds_every_kind_of_data_of_one_person_only(
        client, session, tokens, two, field, caplog):
    anna, bo = two
    caplog.set_level(logging.DEBUG)
    given = {"email": anna.email.upper(), "phone": anna.phone_national,
             "personnummer": anna.personnummer.replace("-", "")[2:]}[field]
    response = client.post(URL, json={field: given}, headers=bearer(tokens["admin"]))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    document, archive = _open(response.data)
    assert document["identified_by"] == field
    _assert_everything_of(document, archive, anna, bo)
    [entry] = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "personal_data.exported")).all()
    assert entry.data["identified_by"] == field
    assert entry.data["cases"] == sorted(entry.data["cases"]) or entry.data["cases"]
    assert set(entry.data["cases"]) == {c.reference for c in anna.cases}
    logged = caplog.text + json.dumps(entry.data)
    for value in _identifiers(anna) + [given]:
        assert value not in logged


def test_the_command_writes_the_same_archive(app, session, two, tmp_path, caplog):
    anna, bo = two
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "export.zip"
    result = CliRunner().invoke(
        cli, ["contact", "export", "--phone", anna.phone_national, "--out", str(out)],
        obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    document, archive = _open(out.read_bytes())
    _assert_everything_of(document, archive, anna, bo)
    for value in _identifiers(anna):
        assert value not in caplog.text + result.output


def test_an_unknown_person_gets_an_empty_document(client, session, tokens, two):
    response = client.post(URL, json={"email": "ingen@example.se"},
                           headers=bearer(tokens["admin"]))
    document, archive = _open(response.data)
    assert (document["contacts"], document["cases"], document["calls"]) == ([], [], [])
    assert archive.namelist() == ["personal-data.json"]


@pytest.mark.parametrize("body, field", [
    ({}, "identifier"),
    ({"email": "a@example.se", "phone": "070-123 45 67"}, "identifier"),
    ({"email": "inte-en-adress"}, "email"),
    ({"phone": "12"}, "phone"),
    ({"personnummer": "19800101-1235"}, "personnummer"),
    ({"personnummer": "1980010112345"}, "personnummer"),
    ({"email": "a@example.se", "extra": 1}, "extra"),
])
def test_bad_input_is_a_problem_naming_the_field_without_its_value(
        client, session, tokens, body, field, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(URL, json=body, headers=bearer(tokens["admin"]))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert field in [e["field"] for e in problem["errors"]]
    for value in body.values():
        if isinstance(value, str):
            assert value not in response.get_data(as_text=True) + caplog.text


def test_only_administrators_export(client, session, tokens, two):
    anna, _ = two
    for role in ("guide", "supervisor", "department"):
        response = client.post(URL, json={"email": anna.email}, headers=bearer(tokens[role]))
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
    assert client.post(URL, json={"email": anna.email}).status_code == 401


def test_the_command_refuses_bad_input(app, session):
    result = CliRunner().invoke(cli, ["contact", "export", "--personnummer", "19800101-1235"],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 2
    assert "19800101-1235" not in result.output


def test_a_case_someone_else_raised_about_the_person_brings_none_of_their_data(
        client, session, tokens, two):
    from citizencenter.accounts.service import SYSTEM
    from citizencenter.cases import service as cases
    from citizencenter.cases.enums import Channel
    from tests.subject_access.people import number

    anna, bo = two
    child = number("20150505", "321")
    about_anna = cases.add_case(
        session, SYSTEM, channel=Channel.EMAIL, subject="Gäller min dotter och min mor",
        description=f"Dottern {child} och mor {anna.personnummer} behöver färdtjänst.",
        contact=bo.cases[0].contact)
    session.flush()
    response = client.post(URL, json={"personnummer": anna.personnummer},
                           headers=bearer(tokens["admin"]))
    document, archive = _open(response.data)
    assert [c["email"] for c in document["contacts"]] == [anna.email]
    by_reference = {c["reference"]: c for c in document["cases"]}
    assert set(by_reference) == {c.reference for c in anna.cases} | {about_anna.reference}
    assert [n["number"] for n in by_reference[about_anna.reference]["identity_numbers"]] == [
        anna.personnummer.replace("-", "")]
    everything = json.dumps(document, ensure_ascii=False) + "".join(
        archive.read(n).decode("latin-1") for n in archive.namelist())
    for value in [*_identifiers(bo), child.replace("-", ""), child, bo.psid,
                  *(c.reference for c in bo.cases)]:
        assert value not in everything
