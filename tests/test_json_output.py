"""Answers encoded by orjson say what Flask's own encoder says (`json_output.JSONProvider`)."""

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from flask.json.provider import DefaultJSONProvider


class Colour(StrEnum):
    BLUE = "blå"


@dataclasses.dataclass
class Point:
    x: int
    y: float


VALUE = {"ö": [1, 2.5, None, True], "a": {"z": "Åsa <b>&", "b": Colour.BLUE},
         "when": datetime(2026, 12, 3, 8, 30, 15, 250, tzinfo=UTC), "day": date(2026, 12, 3),
         "id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "sum": Decimal("12.50"),
         "point": Point(1, 2.0)}


def test_the_same_json_as_flasks_encoder(app):
    ours, flasks = app.json.dumps(VALUE), DefaultJSONProvider(app).dumps(VALUE)
    assert json.loads(ours) == json.loads(flasks)
    assert ours.startswith('{"a":{"b":"blå","z":"Åsa <b>&"},"day":')
    assert '"when":"Thu, 03 Dec 2026 08:30:15 GMT"' in ours  # Flask's HTTP date, as before


def test_a_response_is_compact_utf8_with_a_newline(app):
    with app.app_context():
        response = app.json.response(VALUE)
    assert response.mimetype == "application/json"
    # Byte for byte what json.dumps writes with Flask's compact separators, in UTF-8.
    assert response.data == (json.dumps(VALUE, sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False, default=app.json.default)
                             + "\n").encode()


def test_what_orjson_cannot_write_falls_back_to_flasks_encoder(app):
    assert app.json.dumps({8: "b", 7: "a"}) == '{"7":"a","8":"b"}'
    huge = {"n": 2**70, "list": [1]}
    assert json.loads(app.json.dumps(huge)) == huge
    assert app.json.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "a": 2,\n  "b": 1\n}'


def test_a_debugging_app_answers_indented_as_flask_does(app, monkeypatch):
    monkeypatch.setattr(app, "debug", True)
    with app.app_context():
        response = app.json.response({"b": "å", "a": 1})
    assert response.get_data(as_text=True) == '{\n  "a": 1,\n  "b": "\\u00e5"\n}\n'
