"""The bare baseline: the least a Flask + marshmallow + SQLAlchemy POST can cost.

It parses and validates the same JSON body as the cases API and inserts one row, with
no authentication, idempotency, outbox or audit. Served by gunicorn with the same
worker settings as the app, it tells how much of the app's cost is the stack itself
on this machine. Reads DATABASE_URL like the app (`gunicorn baseline_app:app`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import marshmallow as ma
from flask import Flask, jsonify, request
from sqlalchemy import DateTime, String, Text, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from werkzeug.exceptions import BadRequest

CREATE_LOCK = 7_301_002  # any constant shared by the workers that start together


class Base(DeclarativeBase):
    pass


class BaselineCase(Base):
    __tablename__ = "bench_baseline_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseInSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # the shared request body also carries a contact

    channel = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["phone", "email", "webform", "social", "walk_in"]))
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=300))
    description = ma.fields.String(required=True, validate=ma.validate.Length(max=50_000))


class CaseOutSchema(ma.Schema):
    id = ma.fields.Integer()
    channel = ma.fields.String()
    subject = ma.fields.String()
    description = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


engine = create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=20)


def create_table() -> None:
    """Create the table once even when several workers start at the same moment."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CREATE_LOCK})
        Base.metadata.create_all(conn)


create_table()
app = Flask(__name__)
case_in, case_out = CaseInSchema(), CaseOutSchema()


@app.get("/")
def health():
    return {"status": "ok"}


@app.post("/cases")
def create_case():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest("Send a JSON object.")
    try:
        data = case_in.load(payload)
    except ma.ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    with Session(engine, expire_on_commit=False) as session:
        case = BaselineCase(**data, created_at=datetime.now(UTC))
        session.add(case)
        session.commit()
    return case_out.dump(case), 201
