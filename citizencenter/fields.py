"""Field types for what clients send, so every schema refuses the same bad input.

Text is checked for control characters (a CR/LF in a name breaks every mail header it
reaches), NUL (PostgreSQL refuses it) and lone surrogates (no UTF-8 encoding exists);
numbers stay inside the columns they are compared with; moments stay where time-zone
arithmetic works; free-form objects are bounded in depth and size.
"""

import json
import re
from datetime import UTC, date, datetime, timedelta

import marshmallow as ma
from marshmallow import fields, validate

# C0 controls and DEL. A line keeps TAB; text also keeps CR and LF.
LINE_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

INT32_MAX = 2**31 - 1
# Years in which time-zone conversion can neither underflow nor overflow a datetime.
FIRST_YEAR, LAST_YEAR = 1900, 2999
EARLIEST_CONTACT = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(minutes=5)


def check_text(value: str, controls: re.Pattern = TEXT_CONTROLS) -> str:
    """The text itself, or a ValidationError that says which character is refused."""
    found = controls.search(value)
    if found:
        raise ma.ValidationError(
            f"Contains the control character U+{ord(found.group()):04X}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("Contains a lone surrogate (not valid Unicode).") from None
    return value


class _CheckedString(fields.String):
    controls = TEXT_CONTROLS

    def __init__(self, *args, strip: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.strip = strip

    def _deserialize(self, value, attr, data, **kwargs):
        text = check_text(super()._deserialize(value, attr, data, **kwargs), self.controls)
        if self.strip:
            text = text.strip()
            if not text:
                raise ma.ValidationError("Must not be blank.")
        return text


class Text(_CheckedString):
    """Free text over several lines: message bodies, descriptions, notes."""


class SingleLine(_CheckedString):
    """One line: names, subjects, keywords (TAB allowed, CR and LF not)."""

    controls = LINE_CONTROLS


class Token(_CheckedString):
    """An identifier: slugs, references, ids from other systems; no control characters."""

    controls = ANY_CONTROL


def slug(**kwargs) -> Token:
    kwargs.setdefault("validate", validate.Length(min=1, max=64))
    return Token(**kwargs)


class Email(fields.Email):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate", validate.Length(max=254))
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return check_text(super()._deserialize(value, attr, data, **kwargs), ANY_CONTROL)


class Id(fields.Integer):
    """A row id: a positive 32-bit integer, as the id columns hold."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=INT32_MAX))
        super().__init__(*args, **kwargs)


class Flag(fields.Boolean):
    """A JSON true or false only; marshmallow's Boolean would also take 0, 1, "yes"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def check_year(moment: date) -> None:
    """Refuse years where a time-zone conversion could leave datetime's range."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ma.ValidationError(f"Give a year from {FIRST_YEAR} to {LAST_YEAR}.")


class Moment(fields.Field):
    """A date (a whole local day) or a timezone-aware date-time: a report period's bound."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Give a date or a date-time.")
        try:
            if len(value) == 10:
                moment = date.fromisoformat(value)
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError("Not an ISO 8601 date or date-time.") from None
        check_year(moment)
        if isinstance(moment, datetime) and moment.tzinfo is None:
            raise ma.ValidationError("A date-time needs a timezone offset.")
        return moment


class Date(fields.Date):
    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        check_year(day)
        return day


class AwareDateTime(fields.AwareDateTime):
    """A date-time with its offset, in years where converting it to UTC cannot overflow."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        check_year(moment)
        return moment


class PastMoment(AwareDateTime):
    """When something happened: not before 2000, not ahead of our clock beyond a small skew."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment < EARLIEST_CONTACT:
            raise ma.ValidationError(f"Lies before {EARLIEST_CONTACT.date().isoformat()}.")
        if moment > datetime.now(UTC) + CLOCK_SKEW:
            raise ma.ValidationError("Lies in the future.")
        return moment


class FreeForm(fields.Dict):
    """A small JSON object of the client's own: bounded depth and size, no reserved keys."""

    def __init__(self, *, reserved: frozenset[str] = frozenset(), max_depth: int = 4,
                 max_bytes: int = 8192, **kwargs):
        super().__init__(keys=SingleLine(validate=validate.Length(min=1, max=100)), **kwargs)
        self.reserved, self.max_depth, self.max_bytes = reserved, max_depth, max_bytes

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict):
            self._check(value, 1)
            taken = sorted(self.reserved.intersection(value))
            if taken:
                raise ma.ValidationError(f"Reserved for the system: {', '.join(taken)}.")
            if len(json.dumps(value, ensure_ascii=False).encode()) > self.max_bytes:
                raise ma.ValidationError(f"Larger than {self.max_bytes} bytes.")
        return super()._deserialize(value, attr, data, **kwargs)

    def _check(self, value, depth: int) -> None:
        if isinstance(value, dict | list) and depth > self.max_depth:
            raise ma.ValidationError(f"Nested deeper than {self.max_depth} levels.")
        items = value.items() if isinstance(value, dict) else enumerate(value) \
            if isinstance(value, list) else ()
        for key, item in items:
            if isinstance(key, str):
                check_text(key, LINE_CONTROLS)
            if isinstance(item, str):
                check_text(item)
            self._check(item, depth + 1)


class ChangeSchema(ma.Schema):
    """A PATCH body: at least one field to change (said in the document too)."""

    class Meta:
        json_schema = {"minProperties": 1}

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.")
