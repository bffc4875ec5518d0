"""Signed outbound Message-IDs: round trip, forgery, wrong secret, rotation."""

import re

import pytest

from citizencenter.channels.email.message_ids import (
    case_reference_from_message_id,
    make_message_id,
)

SECRET = b"message-id-test-secret"


def test_round_trip():
    message_id = make_message_id("MC-2026-000123", SECRET, "lund.example")
    assert re.fullmatch(r"<MC-2026-000123\.[0-9a-f]{16}\.[0-9a-f]{32}@lund\.example>",
                        message_id)
    assert case_reference_from_message_id(message_id, SECRET) == "MC-2026-000123"
    assert case_reference_from_message_id(message_id.strip("<>"), SECRET) == "MC-2026-000123"


def test_each_id_is_new():
    ids = {make_message_id("MC-2026-000123", SECRET, "lund.example") for _ in range(50)}
    assert len(ids) == 50


def test_wrong_secret_finds_nothing():
    message_id = make_message_id("MC-2026-000123", SECRET, "lund.example")
    assert case_reference_from_message_id(message_id, b"another secret") is None


def test_rotation_accepts_any_current_secret():
    old = make_message_id("MC-2026-000123", b"old secret", "lund.example")
    assert case_reference_from_message_id(old, [SECRET, b"old secret"]) == "MC-2026-000123"
    assert case_reference_from_message_id(old, [SECRET]) is None


def test_forged_ids_find_nothing():
    genuine = make_message_id("MC-2026-000123", SECRET, "lund.example")
    reference, nonce, rest = genuine.strip("<>").split(".", 2)
    mac, domain = rest.split("@")

    def flip_last(value: str) -> str:
        return value[:-1] + ("1" if value[-1] == "0" else "0")

    forgeries = [
        f"<MC-2026-000124.{nonce}.{mac}@{domain}>",  # another case, same MAC
        f"<{reference}.{flip_last(nonce)}.{mac}@{domain}>",  # another nonce
        f"<{reference}.{nonce}.{flip_last(mac)}@{domain}>",
        f"<{reference}.{nonce}.{mac}é@{domain}>",
        f"<{reference}.{nonce}.{mac[:16]}@{domain}>",  # truncated MAC
        f"<{reference}.{nonce}@{domain}>",
        f"<{reference}@{domain}>",
        "<MC-2026-000123.0123456789abcdef.00000000000000000000000000000000@lund.example>",
        "<CAKq1s0cR7n4tV9mB2xH6w@mail.gmail.example>",
        "", None, "not an id",
    ]
    for forged in forgeries:
        assert case_reference_from_message_id(forged, SECRET) is None, forged


def test_the_domain_is_not_signed():
    # Moving the centre to another mail domain must not orphan old threads.
    message_id = make_message_id("MC-2026-000123", SECRET, "lund.example")
    moved = message_id.replace("@lund.example", "@mail.lund.example")
    assert case_reference_from_message_id(moved, SECRET) == "MC-2026-000123"


@pytest.mark.parametrize(("reference", "secret", "domain"), [
    ("MC 2026", SECRET, "lund.example"),
    ("MC-2026.000123", SECRET, "lund.example"),
    ("MC-2026-000123", b"", "lund.example"),
    ("MC-2026-000123", SECRET, "lund.example>"),
    ("MC-2026-000123", SECRET, "a@b"),
])
def test_make_message_id_rejects_bad_input(reference, secret, domain):
    with pytest.raises(ValueError):
        make_message_id(reference, secret, domain)
