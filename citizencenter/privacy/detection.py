"""Finding Swedish personal identity numbers (personnummer, samordningsnummer) in free text.

The checks (Luhn, real dates, day + 60 for a samordningsnummer, the century of a
10-digit number and `+` for the over-hundreds) are the `personnummer` library's; this
module only finds the candidates. A candidate is a whole run of digits: 10 or 12 digits,
the last four maybe set off by `-`, `+` or a space. Digits running on before or after it
(a phone number, an order number, an IBAN) are part of something else and left alone.
"""

import re
from dataclasses import dataclass
from datetime import date

from personnummer import personnummer

# Digits joined by one of these belong to one run ("046-35 50 00", "4711-19121212-1212").
_JOINERS = r"[-+ ./]"
CANDIDATE = re.compile(
    rf"(?<![\w+])(?<!\d{_JOINERS})"  # no digit, letter or leading + before it
    r"(\d{6}|\d{8})([-+ ]?)(\d{4})"
    r"(?!\w)(?![-+./]\d)",  # and none running on after it (a space may end a sentence)
    re.ASCII)
MASK_TAIL = "XXXX"


@dataclass(frozen=True)
class Found:
    """A number in a text: where it stands and its 12-digit form (YYYYMMDDNNNC)."""

    start: int
    end: int
    number: str

    @property
    def mask(self) -> str:
        return masked(self.number)


def masked(number: str) -> str:
    """What a text keeps of a 12-digit number: its date part, e.g. 19121212-XXXX."""
    return f"{number[:8]}-{MASK_TAIL}"


def identity_number(text: str, *, today: date | None = None) -> str | None:
    """The 12-digit form of a personnummer or samordningsnummer, or None if `text` is not one."""
    match = CANDIDATE.fullmatch(text.strip())
    return _valid(match, today or date.today()) if match else None


def find(text: str, *, today: date | None = None) -> list[Found]:
    """Every valid personnummer and samordningsnummer in `text`, in order."""
    today = today or date.today()
    found = []
    for match in CANDIDATE.finditer(text or ""):
        number = _valid(match, today)
        if number is not None:
            found.append(Found(match.start(), match.end(), number))
    return found


def mask(text: str, *, today: date | None = None) -> tuple[str, list[str]]:
    """`text` with each number replaced by its mask, and the numbers (12 digits) found."""
    found = find(text, today=today)
    if not found:
        return text, []
    parts, position = [], 0
    for hit in found:
        parts += [text[position:hit.start], hit.mask]
        position = hit.end
    parts.append(text[position:])
    return "".join(parts), [hit.number for hit in found]


def _valid(match: re.Match, today: date) -> str | None:
    head, separator, tail = match.groups()
    # The library reads "-" (or nothing) as under a hundred years old, "+" as over.
    candidate = f"{head}{'+' if separator == '+' else '-'}{tail}"
    try:
        number = personnummer.parse(candidate)
        born = number.get_date()
    except (personnummer.PersonnummerException, ValueError):
        return None
    if born > today:
        return None  # not born yet: a date, but no one's number
    return number.format(long_format=True)
