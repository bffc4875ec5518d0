"""Parsing edge cases the corpus does not show: size limits, non-messages, the helpers."""

import base64
import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from citizencenter.channels.email import attachments
from citizencenter.channels.email.charsets import decode_text
from citizencenter.channels.email.parsing import (
    EmailError,
    MessageTooLarge,
    MiB,
    UnparseableMessage,
    case_reference_from_subject,
    message_id_list,
    normalise_message_id,
    parse_message,
)
from citizencenter.channels.email.sanitising import html_to_text, sanitise_html

PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
CORPUS = Path(__file__).parent / "corpus"


def message_with_attachment(content: bytes, filename: str = "bygglovsritning.pdf",
                            content_type: str = "application/pdf") -> bytes:
    """A citizen's mail with one attachment, built at run time to keep megabytes out of git."""
    encoded = base64.encodebytes(content)
    return (b"From: Erik Johansson <erik.johansson.lund@gmail.example>\r\n"
            b"To: medborgarcenter@lund.example\r\n"
            b"Subject: Ritningar\r\n"
            b"Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n"
            b"Message-ID: <big-attachment-1@mail.gmail.example>\r\n"
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="big"\r\n\r\n'
            b"--big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b"Here are the drawings.\r\n"
            b"--big\r\n"
            + f'Content-Type: {content_type}; name="{filename}"\r\n'
              f'Content-Disposition: attachment; filename="{filename}"\r\n'.encode()
            + b"Content-Transfer-Encoding: base64\r\n\r\n"
            + encoded.replace(b"\n", b"\r\n") + b"--big--\r\n")


def test_huge_attachment_is_kept_as_metadata_without_content():
    content = PDF_HEAD + b"0" * (12_000_000 - len(PDF_HEAD))
    parsed = parse_message(message_with_attachment(content))
    [attachment] = parsed.attachments
    assert attachment.filename == "bygglovsritning.pdf"
    assert attachment.size == 12_000_000
    assert attachment.rejected_reason == "too-large"
    assert attachment.content is None
    assert attachment.detected_type == "application/pdf"
    assert parsed.text.strip() == "Here are the drawings."


def test_attachment_at_the_limit_is_kept():
    content = PDF_HEAD + b"1" * 1000
    parsed = parse_message(message_with_attachment(content), max_attachment_bytes=len(content))
    assert parsed.attachments[0].rejected_reason is None
    assert parsed.attachments[0].content == content
    tighter = parse_message(message_with_attachment(content),
                            max_attachment_bytes=len(content) - 1)
    assert tighter.attachments[0].rejected_reason == "too-large"


def test_message_over_the_hard_limit_is_refused():
    raw = message_with_attachment(PDF_HEAD + b"2" * 2000)
    with pytest.raises(MessageTooLarge):
        parse_message(raw, max_total_bytes=len(raw) - 1)
    assert parse_message(raw, max_total_bytes=len(raw)).message_id
    with pytest.raises(EmailError):
        parse_message(b"From: a@example.se\r\n\r\n" + b"x" * (25 * MiB))


@pytest.mark.parametrize("raw", [
    b"", b"   \r\n\r\n", b"\x00\x01\x02\xff\xfe\x89PNG garbage \x00" * 20,
    b"Just a line of text without any header\nand another one\n",
    b"\r\n\r\nFrom: after a blank line is body, not header\r\n",
])
def test_non_messages_are_unparseable(raw):
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


def test_unix_from_line_and_nul_bytes_are_tolerated():
    raw = (b"From erik@example.se Mon Mar  2 10:00:00 2026\n"
           b"From: erik@example.se\nSubject: Hej\x00\n\nText\x00 med NUL\n")
    parsed = parse_message(raw)
    assert parsed.from_address == "erik@example.se"
    assert parsed.subject == "Hej"
    assert parsed.text == "Text med NUL\n"


def test_malformed_structured_headers_do_not_break_parsing():
    raw = (b"From: \"unclosed <broken@\nTo: ,,, undisclosed-recipients:;\n"
           b"Message-ID: <<>>\nIn-Reply-To: not an id\nDate: yesterday-ish\n"
           b"Subject: =?unknown-charset?q?Hej?= =?utf-8?q?p=C3=A5_dig?=\n\nBody\n")
    parsed = parse_message(raw)
    assert parsed.from_address is None
    assert parsed.to == []
    assert parsed.message_id is None
    assert parsed.dedupe_key.startswith("sha256:")
    assert parsed.in_reply_to is None
    assert parsed.date is None
    assert "på dig" in parsed.subject
    assert {"invalid-from", "invalid-message-id", "invalid-date:date"} <= set(parsed.defects)


def test_date_with_unknown_zone_is_utc():
    parsed = parse_message(b"From: a@example.se\nDate: Mon, 2 Mar 2026 10:00:00 -0000\n\nx")
    assert parsed.date == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_raw_8bit_latin1_header_is_decoded():
    raw = "From: Åsa Öberg <asa@example.se>\nSubject: Snö på gatan\n\nx".encode("latin-1")
    parsed = parse_message(raw)
    assert parsed.subject == "Snö på gatan"
    assert parsed.from_name == "Åsa Öberg"


def test_inline_part_with_content_id_but_no_disposition_is_inline():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    raw = (b"From: a@example.se\nContent-Type: multipart/related; boundary=r\n\n"
           b"--r\nContent-Type: text/html\n\n<p>Se <img src=\"cid:bild1\"></p>\n"
           b"--r\nContent-Type: image/png\nContent-ID: <bild1>\n"
           b"Content-Transfer-Encoding: base64\n\n" + base64.b64encode(png) + b"\n--r--\n")
    parsed = parse_message(raw)
    [image] = parsed.attachments
    assert (image.inline, image.content_id, image.filename) == (True, "bild1", None)
    assert parsed.text == "Se"


@pytest.mark.parametrize(("value", "expected"), [
    ("<abc@example.se>", "abc@example.se"),
    ("  <abc@example.se> (comment)", "abc@example.se"),
    ("abc@example.se", "abc@example.se"),
    ("<<>>", None),
    ("no id here", None),
    (None, None),
    ("<" + "a" * 300 + "@example.se>", None),
])
def test_normalise_message_id(value, expected):
    assert normalise_message_id(value) == expected


def test_message_id_list_keeps_order_without_repeats():
    assert message_id_list("<a@x> <b@y>\r\n <a@x> junk <c@z>") == ["a@x", "b@y", "c@z"]


@pytest.mark.parametrize(("subject", "expected"), [
    ("Re: Bygglov [MC-2026-000123]", "MC-2026-000123"),
    ("SV: [ mc-2026-000123 ] bygglov", "MC-2026-000123"),
    ("Ärende MC-2026-000123 utan hakparentes", None),
    ("[MC-26-1]", None),
    ("", None),
])
def test_case_reference_from_subject(subject, expected):
    assert case_reference_from_subject(subject) == expected


@pytest.mark.parametrize(("data", "charset", "text", "defect"), [
    ("blåbär".encode(), "utf-8", "blåbär", None),
    ("blåbär".encode("latin-1"), "iso-8859-1", "blåbär", None),
    (b"\x80 \x93x\x94", "iso-8859-1", "€ “x”", None),
    ("blåbär".encode(), "iso-8859-1", "blåbär", "charset-mismatch"),
    ("blåbär €".encode("cp1252"), "utf-8", "blåbär €", "charset-mismatch"),
    ("blåbär".encode(), None, "blåbär", None),
    ("blåbär".encode("latin-1"), "x-no-such-charset", "blåbär", "unknown-charset"),
    ("blåbär".encode("latin-1"), "us-ascii", "blåbär", None),
    ("€".encode("iso-8859-15"), "iso-8859-15", "€", None),
    (b"a\x00b", "utf-8", "ab", None),
])
def test_decode_text(data, charset, text, defect):
    assert decode_text(data, charset) == (text, defect)


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "expected"), [
    (PDF_HEAD, attachments.PDF),
    (b"\x89PNG\r\n\x1a\n\x00", attachments.PNG),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", attachments.JPEG),
    (b"GIF89a\x01\x00", attachments.GIF),
    (_zip(["a.txt"]), attachments.ZIP),
    (_zip(["[Content_Types].xml", "word/document.xml"]), attachments.DOCX),
    (_zip(["[Content_Types].xml", "xl/workbook.xml"]), attachments.XLSX),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", attachments.OLE),
    (b"MZ\x90\x00", attachments.WINDOWS_EXECUTABLE),
    (b"\x7fELF\x02\x01", attachments.ELF),
    (b"\xcf\xfa\xed\xfe\x07", attachments.MACH_O),
    (b"#!/bin/sh\nrm -rf /\n", attachments.SCRIPT),
    ("Mått: 6 x 5 meter\n".encode(), attachments.TEXT),
    (b"\x00\x01\x02\x03\xfe", attachments.UNKNOWN),
    (b"", attachments.UNKNOWN),
])
def test_detect_type(content, expected):
    assert attachments.detect_type(content) == expected


@pytest.mark.parametrize(("filename", "declared", "content", "reason"), [
    ("intyg.pdf", "application/pdf", PDF_HEAD, None),
    ("intyg.pdf", "application/octet-stream", PDF_HEAD, None),
    ("foto.jpg", "image/jpeg", b"\x89PNG\r\n\x1a\n", None),
    ("ansokan.docx", attachments.DOCX, _zip(["[Content_Types].xml", "word/d.xml"]), None),
    ("intyg.pdf", "application/pdf", b"<html>phish</html>", "type-mismatch"),
    ("intyg.pdf", "application/octet-stream", b"MZ\x90\x00", "executable"),
    ("update.sh", "text/plain", b"#!/bin/sh\n", "executable"),
    ("faktura.pdf.exe", "application/pdf", PDF_HEAD, "blocked-extension"),
    ("SKRIPT.VBS", "text/plain", b"MsgBox 1", "blocked-extension"),
    (None, "application/pdf", b"plain words", "type-mismatch"),
])
def test_screen(filename, declared, content, reason):
    screened = attachments.screen(filename, declared, content, max_bytes=10 * MiB)
    assert screened.rejected_reason == reason
    assert screened.content == (None if reason else content)


@pytest.mark.parametrize(("name", "safe"), [
    ("..\\..\\Windows\\system32\\evil.exe", "evil.exe"),
    ("../../etc/passwd", "passwd"),
    ("ok\x00name\x1f.pdf", "okname.pdf"),
    (".hidden", "hidden"),
    ("", None),
    (None, None),
    ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
])
def test_safe_filename(name, safe):
    assert attachments.safe_filename(name) == safe


def test_sanitise_html_removes_active_content():
    cleaned = sanitise_html(
        '<p onmouseover="x()" style="color:red">Hej<script>alert(1)</script></p>'
        '<a href="JaVaScRiPt:alert(1)">a</a><a href="data:text/html,x">b</a>'
        '<iframe srcdoc="<script>x</script>"></iframe><object data="x.swf">o</object>'
        '<img src="cid:bild1" onerror="x()"><a href="https://lund.example">c</a>')
    for forbidden in ("onmouseover", "script", "style", "javascript", "data:", "iframe",
                      "object", "onerror"):
        assert forbidden not in cleaned.lower()
    assert '<img src="cid:bild1">' in cleaned
    assert 'href="https://lund.example"' in cleaned


def test_html_to_text_keeps_structure():
    text = html_to_text("<h1>Rubrik</h1><p>Första&nbsp;stycket &amp; mer</p>"
                        "<ul><li>ett</li><li>två</li></ul><p>Se <a href=\"https://lund.example/a\">"
                        "här</a></p><table><tr><td>A</td><td>B</td></tr></table>")
    assert text == ("Rubrik\n\nFörsta stycket & mer\n\n- ett\n\n- två\n\n"
                    "Se här <https://lund.example/a>\n\nA B")


def test_non_text_codec_labels_are_unknown_charsets():
    assert decode_text(b"abc=E5", "quopri") == ("abc=E5", "unknown-charset")
    assert decode_text(b"x", "base64\x00") == ("x", "unknown-charset")


def test_damaged_corpus_messages_parse_or_fail_cleanly():
    """Truncated, garbled and spliced copies of real mail never raise anything else."""
    rng = random.Random(20260302)
    corpus = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    tokens = [b"=?", b"?=", b"<", b">", b'"', b"\x00", b"\r", b"\n\n", b";", b"--",
              b"boundary=", b"=?utf-8?b?", b"charset=quopri", b"(", b"\\"]
    for original in corpus:
        for _ in range(25):
            data = bytearray(original)
            position = rng.randrange(len(data))
            match rng.randrange(4):
                case 0:
                    del data[position:]
                case 1:
                    for _ in range(rng.randrange(1, 20)):
                        data[rng.randrange(len(data))] = rng.randrange(256)
                case 2:
                    data[position:position] = rng.choice(tokens)
                case _:
                    start = rng.randrange(len(data))
                    data[position:position] = data[start:start + rng.randrange(200)]
            try:
                parsed = parse_message(bytes(data))
            except EmailError:
                continue
            assert parsed.dedupe_key
            assert "\x00" not in parsed.text
