import pytest

from citizencenter.contacts.service import find_or_create, normalise_phone


@pytest.mark.parametrize(("raw", "expected"), [
    ("046-359 50 00", "+46463595000"),
    ("070-123 45 67", "+46701234567"),
    ("+46 70 123 45 67", "+46701234567"),
    ("0046701234567", "+46701234567"),
    ("(040) 34 10 00", "+4640341000"),
    ("+45 33 12 34 56", "+4533123456"),
])
def test_phone_numbers_become_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "123", "+0 123 456 789", "07012345678901234567"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_a_known_citizen_is_found_by_email_then_phone(session):
    first = find_or_create(session, name="Ali Rahimi", email="Ali@Example.se")
    session.flush()
    assert first.email == "ali@example.se"
    assert find_or_create(session, email="ali@example.se") is first
    by_phone = find_or_create(session, phone="+46701112233")
    session.flush()
    assert by_phone is not first
    again = find_or_create(session, name="Ny", email="other@example.se", phone="+46701112233")
    assert again is by_phone
    assert again.name == "Ny" and again.email == "other@example.se"
    assert find_or_create(session) is None
