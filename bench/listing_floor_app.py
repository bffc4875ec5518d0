"""The listing floor: the least a Flask + marshmallow + SQLAlchemy GET of the same page costs.

It validates the query (queue, status, limit) with marshmallow, runs one statement (the
page the API runs for an administrator at 100,000 cases: the same columns, the related
slugs and names as scalar subqueries, the same index walk) and answers the same JSON
items. No authentication, session, visibility rules, cursor signing or reference cache.
Served by gunicorn with the app's worker settings, it tells what the page costs on this
machine before anything the API adds (`gunicorn listing_floor_app:app`, DATABASE_URL).
"""

from __future__ import annotations

import os

import marshmallow as ma
from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

PAGE = text("""
SELECT c.id, c.reference, c.diarienummer, c.channel, c.status, c.priority, c.subject,
  (SELECT slug FROM categories WHERE id = c.category_id),
  (SELECT slug FROM queues WHERE id = c.queue_id),
  (SELECT slug FROM departments WHERE id = c.department_id),
  (SELECT slug FROM service_points WHERE id = c.service_point_id),
  c.contact_id,
  (SELECT name FROM contacts WHERE id = c.contact_id),
  (SELECT email FROM contacts WHERE id = c.contact_id),
  (SELECT phone FROM contacts WHERE id = c.contact_id),
  (SELECT protection FROM contacts WHERE id = c.contact_id),
  c.assignee_id, (SELECT name FROM users WHERE id = c.assignee_id),
  c.received_at, c.routed_at, c.first_response_at, c.resolved_at, c.closed_at,
  c.resolved_at_first_contact, c.updated_at, c.version, c.confidential_at,
  c.latitude, c.longitude, c.address
FROM cases AS c
WHERE c.status = :status AND c.queue_id = (SELECT id FROM queues WHERE slug = :queue)
ORDER BY c.received_at DESC, c.id DESC
LIMIT :limit""")


class PageArgs(ma.Schema):
    queue = ma.fields.String(required=True, validate=ma.validate.Length(max=64))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ["new", "open", "waiting_on_citizen", "forwarded", "resolved", "closed"]))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=100))


engine = create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=20)
app = Flask(__name__)
page_args = PageArgs()


def _iso(moment):
    return None if moment is None else moment.isoformat()


def _item(row) -> dict:
    (id_, reference, diarienummer, channel, status, priority, subject, category, queue,
     department, service_point, contact_id, contact_name, contact_email, contact_phone,
     contact_protection, assignee_id, assignee_name, received_at, routed_at,
     first_response_at, resolved_at, closed_at, first_contact, updated_at, version,
     confidential_at, latitude, longitude, address) = row
    return {
        "id": str(id_), "reference": reference, "diarienummer": diarienummer,
        "channel": channel, "status": status, "priority": priority, "subject": subject,
        "category": category, "queue": queue, "department": department,
        "service_point": service_point,
        "contact": None if contact_id is None else {
            "id": contact_id, "name": contact_name, "email": contact_email,
            "phone": contact_phone, "protection": contact_protection},
        "assignee": None if assignee_id is None else {"id": assignee_id, "name": assignee_name},
        "received_at": _iso(received_at), "routed_at": _iso(routed_at),
        "first_response_at": _iso(first_response_at), "resolved_at": _iso(resolved_at),
        "closed_at": _iso(closed_at), "resolved_at_first_contact": first_contact,
        "updated_at": _iso(updated_at), "version": version,
        "confidential": confidential_at is not None,
        "location": None if latitude is None and longitude is None and address is None
        else {"latitude": latitude, "longitude": longitude, "address": address},
    }


@app.get("/")
def health():
    return {"status": "ok"}


@app.get("/cases")
def list_cases():
    try:
        args = page_args.load(request.args)
    except ma.ValidationError as exc:
        return jsonify(errors=exc.messages), 422
    with engine.connect() as conn:
        rows = conn.execute(PAGE, {**args, "limit": args["limit"] + 1}).all()
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return jsonify(items=[_item(row) for row in rows],
                   next_cursor=f"{rows[-1].received_at.isoformat()}|{rows[-1].id}"
                   if more else None)
