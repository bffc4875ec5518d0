"""Keyset pagination with signed, expiring cursors bound to the query they came from."""

import hashlib
import json
from dataclasses import dataclass

import marshmallow as ma
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, and_, or_, tuple_

from citizencenter.errors import AppError


class InvalidCursor(AppError):
    status, title, slug = 400, "Invalid cursor", "invalid-cursor"


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100))
    cursor = ma.fields.String(validate=ma.validate.Length(max=500))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The envelope every list in the API answers with."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(allow_none=True, required=True),
        },
        name=name,
    )


@dataclass
class Page:
    """One page of a list, as `page_schema` answers it; an unpaged list has no next cursor."""

    items: list
    next_cursor: str | None = None


class Paginator:
    def __init__(self, secret_key: str | list[bytes], max_age_s: int, default_limit: int,
                 max_limit: int):
        self.serializer = URLSafeTimedSerializer(secret_key, salt="page-cursor")
        self.max_age_s = max_age_s
        self.default_limit = default_limit
        self.max_limit = max_limit

    @staticmethod
    def fingerprint(filters: dict) -> str:
        canonical = json.dumps(filters, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def page(self, session, query: Select, keys: tuple, to_key, from_key, filters: dict,
             limit: int | None, cursor: str | None, descending: bool | tuple = True,
             as_rows: bool = False) -> Page:
        """The rows ordered by `keys` that follow `cursor`, and the cursor to the next page.

        `descending` is one direction for every key or one per key; `as_rows` pages through
        result rows (several columns) instead of the first column's objects."""
        limit = min(limit or self.default_limit, self.max_limit)
        fingerprint = self.fingerprint(filters)
        directions = descending if isinstance(descending, tuple) else (descending,) * len(keys)
        if cursor:
            try:
                after = from_key(self._decode(cursor, fingerprint))
            except (TypeError, ValueError, KeyError):
                raise InvalidCursor("The cursor is malformed.") from None
            query = query.where(following(keys, directions, after))
        order = [k.desc() if down else k.asc() for k, down in zip(keys, directions, strict=True)]
        query = query.order_by(*order).limit(limit + 1)
        # Rows straight from the connection: the ORM's execution would only wrap them.
        result = session.connection().execute(query) if as_rows else session.scalars(query)
        rows = list(result.unique())
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = self.serializer.dumps({"k": to_key(rows[-1]), "f": fingerprint})
        return Page(rows, next_cursor)

    def decode(self, cursor: str, filters: dict) -> list:
        """The key a cursor of ours holds, for a list that pages in parts of its own."""
        return self._decode(cursor, self.fingerprint(filters))

    def encode(self, key: list, filters: dict) -> str:
        """A cursor to the rows after `key` (JSON values) of the list `filters` name."""
        return self.serializer.dumps({"k": key, "f": self.fingerprint(filters)})

    def _decode(self, cursor: str, fingerprint: str) -> list:
        try:
            data = self.serializer.loads(cursor, max_age=self.max_age_s)
        except SignatureExpired:
            raise InvalidCursor("The cursor has expired; start from the first page.") from None
        except BadSignature:
            raise InvalidCursor("The cursor is not one this API issued.") from None
        if data.get("f") != fingerprint:
            raise InvalidCursor("The cursor belongs to a query with other filters.")
        return data["k"]


def following(keys: tuple, directions: tuple, after: tuple):
    """Rows after the keyset `after`: one row comparison when every key runs one way
    (an index serves it), otherwise key by key."""
    if len(set(directions)) == 1:
        bound = tuple_(*keys)
        return bound < tuple_(*after) if directions[0] else bound > tuple_(*after)
    clauses = []
    for i, (key, down) in enumerate(zip(keys, directions, strict=True)):
        equal = [keys[j] == after[j] for j in range(i)]
        clauses.append(and_(*equal, key < after[i] if down else key > after[i]))
    return or_(*clauses)
