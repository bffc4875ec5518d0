"""Every file of the e-mail corpus against its expected outcome in corpus/expected.json."""

import json
from pathlib import Path

import pytest

from citizencenter.channels.email.autoreply import acknowledgement_refusal
from citizencenter.channels.email.message_ids import find_case_reference
from citizencenter.channels.email.parsing import ParsedEmail, parse_message

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict] = {
    name: outcome for name, outcome in
    json.loads((CORPUS / "expected.json").read_text(encoding="utf-8")).items()
    if not name.startswith("_")}
# The corpus's signed ids were made with this secret (MC-2026-000123, MC-2026-000077).
SECRET = b"corpus-test-secret"
OWN_ADDRESSES = {"medborgarcenter@lund.example", "noreply@lund.example"}
# Ids the database would know from earlier messages on a case.
STORED_MESSAGE_IDS = {"CAF9xk2Lq8vTn3Rw@mail.lund.example": "MC-2026-000050"}


def parse(name: str) -> ParsedEmail:
    return parse_message((CORPUS / name).read_bytes())


def lookup_stored(ids: list[str]) -> str | None:
    return next((STORED_MESSAGE_IDS[i] for i in ids if i in STORED_MESSAGE_IDS), None)


def test_corpus_and_expectations_match():
    files = {path.name for path in CORPUS.glob("*.eml")}
    assert files == set(EXPECTED)
    assert len(files) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name):
    expected = EXPECTED[name]
    parsed = parse(name)

    assert parsed.subject == expected["subject"]
    assert parsed.from_address == expected["from"]
    if "from_name" in expected:
        assert parsed.from_name == expected["from_name"]
    if "cc" in expected:
        assert parsed.cc == expected["cc"]
    for needle in expected["text_contains"]:
        assert needle in parsed.text
    for needle in expected.get("text_excludes", []):
        assert needle not in parsed.text
    assert "\x00" not in parsed.text

    if expected["html"] is None:
        assert parsed.html is None
    else:
        assert parsed.html is not None
        for needle in expected["html"]["contains"]:
            assert needle in parsed.html
        for needle in expected["html"]["excludes"]:
            assert needle.lower() not in parsed.html.lower()

    got = [{"filename": a.filename, "declared_type": a.declared_type,
            "detected_type": a.detected_type, "rejected_reason": a.rejected_reason,
            "inline": a.inline, **({"content_id": a.content_id} if a.content_id else {})}
           for a in parsed.attachments]
    assert got == expected["attachments"]
    for attachment in parsed.attachments:
        if attachment.rejected_reason:
            assert attachment.content is None
        else:
            assert attachment.content is not None and len(attachment.content) == attachment.size

    assert parsed.auto_submitted_reason == expected["auto_submitted_reason"]
    assert parsed.is_bounce == expected.get("is_bounce", False)
    assert parsed.case_reference == expected["case_reference"]
    assert acknowledgement_refusal(parsed, OWN_ADDRESSES) == expected["refusal"]

    if expected["dedupe"] == "hash":
        assert parsed.message_id is None
        assert parsed.dedupe_key == f"sha256:{parsed.content_hash}"
    else:
        assert parsed.message_id == expected["dedupe"] == parsed.dedupe_key
    if "same_dedupe_as" in expected:
        assert parsed.dedupe_key == parse(expected["same_dedupe_as"]).dedupe_key

    resolved = find_case_reference(parsed, SECRET).resolve(lookup_stored)
    assert resolved == (tuple(expected["threading"]) if expected["threading"] else None)

    if expected["defects"]:
        assert set(expected["defects"]) <= set(parsed.defects)
    else:
        assert parsed.defects == []


def test_content_hash_ignores_transport_headers_but_not_content():
    first, again = parse("25_no_message_id.eml"), parse("26_no_message_id_duplicate.eml")
    assert first.content_hash == again.content_hash
    changed = (CORPUS / "25_no_message_id.eml").read_bytes().replace(b"Soptunnan", b"Papperskorgen")
    assert parse_message(changed).content_hash != first.content_hash


def test_kept_headers_are_the_small_set():
    parsed = parse("23_mailing_list_precedence.eml")
    assert parsed.headers == {
        "Message-ID": "<nyhetsbrev-2026-02.4411@lists.foreningar.example>",
        "Subject": "[Lund-foreningar] Nyhetsbrev februari",
        "From": "Lunds Föreningsråd <nyhetsbrev@foreningar.example>",
        "To": "lund-foreningar@lists.foreningar.example",
        "Date": "Sat, 21 Feb 2026 12:00:00 +0100",
        "Precedence": "list",
        "List-Id": "Foreningar i Lund <lund-foreningar.lists.foreningar.example>",
        "Return-Path":
            "<lund-foreningar-bounces+medborgarcenter=lund.example@lists.foreningar.example>",
    }


def test_threading_hints_list_candidates_newest_first():
    hints = find_case_reference(parse("04_gmail_reply_unknown_id.eml"), SECRET)
    assert hints.signed_reference is None
    assert hints.subject_reference is None
    assert hints.candidate_message_ids == [
        "20260128101500.3F2A1C0042@smtp.forskola.example",
        "CAJx0p2mQ8wE4rT1yU7iO3pA5sD9fG2hK6lZ@mail.gmail.example"]
    assert hints.resolve() is None
    assert hints.resolve(lambda ids: "MC-2026-000001" if ids[0].endswith("forskola.example")
                         else None) == ("stored_message_id", "MC-2026-000001")


def test_signed_id_wins_over_subject_tag_and_lookup():
    hints = find_case_reference(parse("02_outlook_reply_signed_tag.eml"), SECRET)
    assert hints.resolve(lambda ids: "MC-2026-000999") == ("message_id", "MC-2026-000123")
    assert hints.subject_reference == "MC-2026-000123"
    # With another secret our own id is just an unknown id.
    other = find_case_reference(parse("03_gmail_reply_signed_no_tag.eml"), b"another secret")
    assert other.signed_reference is None
    assert other.resolve() is None
