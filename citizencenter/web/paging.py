"""Cursor pages on the staff pages: "Nästa sida" follows the API's cursor, "Föregående"
goes back along the trail of earlier cursors the links carry (template: _paging.html)."""

from flask import request

MAX_TRAIL = 20  # "Föregående" remembers this many earlier pages


def current_paging() -> dict:
    """The cursor of this page and the trail of earlier pages' cursors ("" = the first)."""
    trail = request.args.getlist("back")[-MAX_TRAIL:]
    return {"cursor": request.args.get("cursor") or None, "trail": trail}
