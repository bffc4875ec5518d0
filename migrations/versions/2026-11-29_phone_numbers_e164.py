"""Phone numbers: stored numbers in E.164 as phonenumbers writes them, split contacts merged

"+46 (0)46 35 50 00" was stored as +46046355000 and "046-35 50 00" as +4646355000,
so one caller could be two contacts. Every stored number is written again the way
`contacts.service.normalise_phone` writes it now, and a contact whose number now equals
an older contact's is merged into the oldest one it agrees with: its cases, identities,
conversations (every row that points at it) move over, and the name or e-mail address
the older one lacked is taken from it. Contacts that disagree (two e-mail addresses or
two names behind one number, a family's landline) stay separate, so nothing is lost.
A stored number that is not a valid number is left as it is.

Downgrade leaves the data as it is: the numbers stay valid E.164 and merged contacts
cannot be told apart again.

Revision ID: d4f1a2b60031
Revises: c3e8f0a50021
Create Date: 2026-11-29 10:00:00
"""

import os

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = 'd4f1a2b60031'
down_revision = 'c3e8f0a50021'
branch_labels = None
depends_on = None

# Stored numbers carry their country code; the region only reads one that does not.
REGION = os.environ.get("PHONE_DEFAULT_REGION", "SE")

contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("email", sa.String), sa.column("phone", sa.String),
                    sa.column("created_at", sa.DateTime(timezone=True)))


def _e164(stored: str) -> str:
    try:
        number = phonenumbers.parse(stored, REGION)
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_valid_number(number):
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _agree(mine: str | None, theirs: str | None) -> bool:
    return not mine or not theirs or mine.strip().casefold() == theirs.strip().casefold()


def _references(conn) -> list[tuple[str, str]]:
    """Every (table, column) that points at contacts.id."""
    inspector = sa.inspect(conn)
    return [(table, key["constrained_columns"][0])
            for table in inspector.get_table_names()
            for key in inspector.get_foreign_keys(table)
            if key["referred_table"] == "contacts"]


def _merge(conn, references, survivor: dict, duplicate: dict) -> None:
    for table, column in references:
        conn.execute(sa.text(f"UPDATE {table} SET {column} = :survivor "  # noqa: S608
                             f"WHERE {column} = :duplicate"),
                     {"survivor": survivor["id"], "duplicate": duplicate["id"]})
    survivor["name"] = survivor["name"] or duplicate["name"]
    survivor["email"] = survivor["email"] or duplicate["email"]
    conn.execute(contacts.delete().where(contacts.c.id == duplicate["id"]))


def _renormalise_callers(conn, table: str) -> None:
    callers = sa.table(table, sa.column("caller", sa.String))
    for (stored,) in conn.execute(sa.select(callers.c.caller).distinct()
                                  .where(callers.c.caller.is_not(None))).all():
        if _e164(stored) != stored:
            conn.execute(callers.update().where(callers.c.caller == stored)
                         .values(caller=_e164(stored)))


def upgrade() -> None:
    conn = op.get_bind()
    references = _references(conn)
    rows = conn.execute(sa.select(contacts).where(contacts.c.phone.is_not(None))
                        .order_by(contacts.c.created_at, contacts.c.id)).mappings().all()
    kept: dict[str, list[dict]] = {}
    for row in rows:
        contact = {**row, "phone": _e164(row["phone"])}
        same_number = kept.setdefault(contact["phone"], [])
        older = next((c for c in same_number if _agree(c["name"], contact["name"])
                      and _agree(c["email"], contact["email"])), None)
        if older is None:
            same_number.append(contact)
        else:
            _merge(conn, references, older, contact)
    stored = {row["id"]: row for row in rows}
    for contact in (c for same_number in kept.values() for c in same_number):
        values = {key: contact[key] for key in ("name", "email", "phone")}
        if values != {key: stored[contact["id"]][key] for key in values}:
            conn.execute(contacts.update().where(contacts.c.id == contact["id"])
                         .values(**values))
    for table in ("calls", "call_events"):
        _renormalise_callers(conn, table)


def downgrade() -> None:
    pass
