"""Finding personnummer and samordningsnummer in free text: a corpus of valid and invalid ones."""

from datetime import date

import pytest

from citizencenter.privacy import detection

TODAY = date(2026, 12, 2)

# (text, the numbers found, in 12 digits)
FOUND = [
    ("19121212-1212", ["191212121212"]),
    ("191212121212", ["191212121212"]),
    ("19121212 1212", ["191212121212"]),
    ("121212-1212", ["201212121212"]),  # 10 digits: the latest century that fits
    ("1212121212", ["201212121212"]),
    ("121212 1212", ["201212121212"]),
    ("121212+1212", ["191212121212"]),  # `+`: a hundred years or more
    ("19121212+1212", ["191212121212"]),
    ("811228-9874", ["198112289874"]),
    ("8112289874", ["198112289874"]),
    ("701063-2391", ["197010632391"]),  # samordningsnummer: day 3 + 60
    ("19701063-2391", ["197010632391"]),
    ("Mitt personnummer är 19121212-1212, ring mig.", ["191212121212"]),
    ("pnr:811228-9874.", ["198112289874"]),
    ("(811228-9874)", ["198112289874"]),
    ("19121212-1212 2 st", ["191212121212"]),
    ("Två: 811228-9874 och 701063-2391", ["198112289874", "197010632391"]),
    ("Barnets nummer 20000229-1235 (skottdag)", ["200002291235"]),
]

NOT_FOUND = [
    "19121212-1213",  # checksum
    "121212-1213",
    "811228-9875",
    "19121312-1212",  # month 13
    "19120231-1212",  # 31 February
    "701093-2391",  # samordningsnummer day 33
    "19000229-1235",  # no 29 February in 1900
    "20000229-1236",  # a leap day, a wrong check digit
    "20991212-1212",  # not born yet
    "991332-1234",
    "121212-0002",  # serial 000
    "070-1212121212",  # inside a phone number
    "+46 1212121212",
    "+461212121212",
    "0046 121212-1212",
    "order 4711-121212-1212",  # inside an order number
    "ORD121212-1212",
    "121212-1212-7",
    "1121212121212",  # 13 digits
    "121212-12124",
    "12121212121",  # 11 digits
    "SE45 5000 0000 0583 9825 7466",  # an IBAN
    "046-35 50 00",
    "MC-2026-000123",
]


@pytest.mark.parametrize(("text", "numbers"), FOUND)
def test_valid_numbers_are_found(text, numbers):
    assert [f.number for f in detection.find(text, today=TODAY)] == numbers


@pytest.mark.parametrize("text", NOT_FOUND)
def test_invalid_numbers_and_digits_of_something_else_are_not(text):
    assert detection.find(text, today=TODAY) == []
    assert detection.mask(text, today=TODAY) == (text, [])


def test_the_text_keeps_the_date_and_masks_the_rest():
    text = "Hej, jag heter Karin (811228-9874) och min son har 701063-2391."
    masked, numbers = detection.mask(text, today=TODAY)
    assert masked == "Hej, jag heter Karin (19811228-XXXX) och min son har 19701063-XXXX."
    assert numbers == ["198112289874", "197010632391"]


def test_one_number_in_any_form_is_the_same_number():
    forms = ["811228-9874", "8112289874", "811228 9874", "19811228-9874", "198112289874"]
    assert {detection.identity_number(f, today=TODAY) for f in forms} == {"198112289874"}
    assert detection.identity_number("811228-9875", today=TODAY) is None
    assert detection.identity_number("tel 811228-9874", today=TODAY) is None
