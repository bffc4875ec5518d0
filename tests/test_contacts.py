import pytest

from citizencenter.config import ConfigError
from citizencenter.contacts.service import find_or_create, normalise_phone, set_default_region
from tests.factories import bearer, case_payload, create_case


@pytest.mark.parametrize(("raw", "expected"), [
    ("046-359 50 00", "+46463595000"),
    ("070-123 45 67", "+46701234567"),
    ("+46 70 123 45 67", "+46701234567"),
    ("0046701234567", "+46701234567"),
    ("(040) 34 10 00", "+4640341000"),
    ("+45 33 12 34 56", "+4533123456"),
    # The trunk zero written after the country code is not part of the number.
    ("+46 (0)46 35 50 00", "+4646355000"),
    ("046-35 50 00", "+4646355000"),
    ("+46046355000", "+4646355000"),
    ("08-123 456 78", "+46812345678"),
])
def test_phone_numbers_become_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "123", "112", "+0 123 456 789",
                                 "07012345678901234567", "070-123 45", "+46 12 34"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_national_numbers_are_read_in_the_default_region(app):
    assert normalise_phone("020-7946 0958", region="GB") == "+442079460958"
    assert normalise_phone("+46 46 35 50 00", region="GB") == "+4646355000"
    set_default_region("gb")
    try:
        assert normalise_phone("020 7946 0958") == "+442079460958"
    finally:
        set_default_region(app.config["PHONE_DEFAULT_REGION"])
    assert normalise_phone("046-35 50 00") == "+4646355000"
    with pytest.raises(ConfigError):
        set_default_region("XX")


def test_one_caller_is_one_contact_however_the_number_is_written(client, tokens):
    written = ["+46 (0)46 35 50 00", "046-35 50 00", "+46 46 355 000"]
    contacts = [create_case(client, tokens["guide"], contact={"phone": raw})["contact"]
                for raw in written]
    assert {c["phone"] for c in contacts} == {"+4646355000"}
    assert len({c["id"] for c in contacts}) == 1


def test_a_number_that_cannot_be_dialled_is_refused_naming_the_field(client, tokens):
    response = client.post("/api/v1/cases", headers=bearer(tokens["guide"]),
                           json=case_payload(contact={"phone": "070-123 45"}))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["contact.phone"]


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
