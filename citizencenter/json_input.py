"""JSON from clients, refused with 422 when Python or the database could not hold it.

Checked once for every body, before any schema: nesting beyond MAX_DEPTH (the parser
would recurse), NUL (PostgreSQL refuses it in text and JSON) and lone surrogates (they
have no UTF-8 encoding), in values and in keys alike.
"""

import json

from citizencenter.errors import ValidationFailed

MAX_DEPTH = 32


def loads(raw: bytes | str, location: str = "json"):
    """Parse a JSON document and check it; ValueError when it is not JSON at all."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise too_deep("", location) from None
    check(data, location)
    return data


def check(data, location: str = "json") -> None:
    """Refuse the first string, key or nesting no column could store, naming its path."""
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _check_string(value, path, location)
            continue
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth > MAX_DEPTH:
            raise too_deep(path, location)
        for key, item in items:
            # A key that cannot be encoded must still be nameable in the problem document.
            name = str(key).encode("utf-8", "backslashreplace").decode()
            child = f"{path}.{name}" if path else name
            if isinstance(key, str):
                _check_string(key, child, location)
            stack.append((item, child, depth + 1))


def _check_string(value: str, path: str, location: str) -> None:
    if "\x00" in value:
        raise ValidationFailed({path or "_schema": ["Contains a NUL character."]}, location)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed({path or "_schema": [
            "Contains a lone surrogate (not valid Unicode)."]}, location) from None


def too_deep(path: str = "", location: str = "json") -> ValidationFailed:
    return ValidationFailed({path or "_schema": [f"Nested deeper than {MAX_DEPTH} levels."]},
                            location)
