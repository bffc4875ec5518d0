"""A generated half-year of contacts (midsommar and jul included), inserted in bulk.

The rows are plain dicts; tests compute the expected figures from them directly.
"""

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from citizencenter.accounts.models import Department, User
from citizencenter.cases.models import Case
from citizencenter.channels.phone.models import Call
from citizencenter.contacts.models import Contact
from citizencenter.feedback.models import FeedbackRequest, FeedbackResponse
from citizencenter.organisation.models import Category, Queue

STOCKHOLM = ZoneInfo("Europe/Stockholm")
START, END = date(2025, 6, 2), date(2026, 1, 5)  # Monday to Monday
PHONE_QUEUES = ("kontaktcenter", "bygglov", "skola", "vaxel-extern")


def _moment(rng: random.Random, office: bool) -> datetime:
    day = START + timedelta(days=rng.randrange((END - START).days))
    if office:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        seconds = rng.randrange(8 * 3600, 17 * 3600)
    else:
        seconds = rng.randrange(24 * 3600)
    local = datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM) + timedelta(
        seconds=seconds)
    return local.astimezone(UTC).replace(microsecond=0)


def _call(rng, n: int, guides: list[int]) -> dict:
    entered = _moment(rng, office=rng.random() < 0.95)
    roll = rng.random()
    outcome = ("answered" if roll < 0.74 else "abandoned" if roll < 0.90
               else "exited" if roll < 0.99 else "waiting")
    wait = None if outcome == "waiting" else float(rng.choice(
        [rng.randrange(0, 8), rng.randrange(0, 130), rng.randrange(0, 700)]))
    answered = outcome == "answered"
    talk = float(rng.randrange(20, 900)) if answered and rng.random() < 0.97 else None
    local = entered.astimezone(STOCKHOLM)
    return {
        "source": "gen", "call_id": f"gen-{n}", "queue": rng.choice(PHONE_QUEUES),
        "outcome": outcome, "entered_at": entered, "wait_s": wait, "talk_s": talk,
        "hold_s": float(rng.randrange(0, 60)) if talk and rng.random() < 0.3 else None,
        "acw_s": float(rng.randrange(0, 120)) if talk and rng.random() < 0.6 else None,
        "transferred": answered and rng.random() < 0.12,
        "exit_reason": rng.choice(["timeout", "empty", "key"]) if outcome == "exited" else None,
        "agent_user_id": rng.choice(guides) if answered else None,
        "local_date": local.date(), "local_hour": local.hour, "case_id": None,
        "ring_no_answer_count": 0, "callback_requested": False, "updated_at": entered,
    }


def _case(rng, n: int, channel: str, refs: dict) -> dict:
    received = _moment(rng, office=channel in ("phone", "walk_in"))
    first_response = None
    if channel in ("email", "webform", "social") and rng.random() < 0.9:
        first_response = received + timedelta(minutes=rng.choice(
            [rng.randrange(1, 240), rng.randrange(60, 3000), rng.randrange(1000, 7000)]))
    forwarded = rng.random() < 0.2
    resolved = received + timedelta(hours=rng.randrange(1, 400)) \
        if rng.random() < (0.7 if forwarded else 0.85) else None
    return {
        "id": uuid.uuid4(), "reference": f"GEN-{n:07d}", "channel": channel,
        "kind": "callback" if rng.random() < 0.02 else "inquiry",
        "status": "resolved" if resolved else "open", "priority": "normal",
        "subject": "Genererat ärende",
        "category_id": rng.choice(refs["categories"] + [None]),
        "contact_id": rng.choice(refs["contacts"]) if rng.random() < 0.9 else None,
        "queue_id": refs["queues"][rng.choice(PHONE_QUEUES[:3])],
        "department_id": rng.choice(refs["departments"]) if forwarded else None,
        "assignee_id": rng.choice(refs["guides"] + [None]),
        "received_at": received, "first_response_at": first_response,
        "resolved_at": resolved, "resolved_at_first_contact": rng.random() < 0.6,
        "updated_at": received, "version": 1,
    }


def generate(session, calls: int = 20_000, emails: int = 5_000, seed: int = 2025) -> dict:
    """Insert the data set; return its rows (calls, cases, feedback) as dicts."""
    rng = random.Random(seed)
    contacts = [{"name": None, "email": f"gen{n}@example.se" if n % 3 else None,
                 "phone": f"+4670{n:07d}"} for n in range(600)]
    refs = {
        "contacts": list(session.scalars(insert(Contact).returning(
            Contact.id, sort_by_parameter_order=True), contacts)),
        "categories": list(session.scalars(select(Category.id).limit(4))),
        "departments": list(session.scalars(select(Department.id))),
        "guides": list(session.scalars(select(User.id).where(User.role == "guide"))),
        "queues": dict(session.execute(select(Queue.slug, Queue.id)).all()),
    }
    mix = [("email", emails), ("phone", 2_000), ("social", 400), ("webform", 400),
           ("walk_in", 400)]
    cases = [_case(rng, n, channel, refs)
             for n, channel in enumerate(c for c, k in mix for _ in range(k))]
    session.execute(Case.__table__.insert(), cases)
    call_rows = [_call(rng, n, refs["guides"]) for n in range(calls)]
    phone_cases = [c for c in cases if c["channel"] == "phone"]
    answered = [c for c in call_rows if c["outcome"] == "answered"]
    for call, case in zip(rng.sample(answered, len(phone_cases)), phone_cases, strict=True):
        call["case_id"] = case["id"]
    session.execute(Call.__table__.insert(), call_rows)
    rated = rng.sample(cases, 1500)
    requests = [{"case_id": case["id"], "channel": case["channel"], "nonce": f"gen{n}",
                 "via": "email", "created_at": case["received_at"],
                 "expires_at": case["received_at"] + timedelta(days=14),
                 "used_at": case["received_at"]} for n, case in enumerate(rated)]
    request_ids = session.scalars(insert(FeedbackRequest).returning(
        FeedbackRequest.id, sort_by_parameter_order=True), requests).all()
    feedback = []
    for request_id, case in zip(request_ids, rated, strict=True):
        feedback.append({"request_id": request_id, "case_id": case["id"],
                         "channel": case["channel"], "courtesy": rng.randint(1, 5),
                         "ease": rng.randint(1, 5), "clarity": rng.randint(1, 5),
                         "submitted_at": case["received_at"] + timedelta(days=1)})
    session.execute(FeedbackResponse.__table__.insert(), feedback)
    session.commit()
    queue_departments = dict(session.execute(
        select(Queue.slug, Department.slug).join(Department, Queue.department_id
                                                 == Department.id)).all())
    department_slugs = dict(session.execute(select(Department.id, Department.slug)).all())
    queue_slugs = {v: k for k, v in refs["queues"].items()}
    return {"calls": call_rows, "cases": cases, "feedback": feedback,
            "queue_departments": queue_departments, "department_slugs": department_slugs,
            "queue_slugs": queue_slugs}
