"""The public web form: real inquiries become cases, spam and floods do not."""

import time

import pytest
import redis
from sqlalchemy import func, select

from citizencenter.cases.models import Case, Message
from citizencenter.channels.webform.ratelimit import SlidingWindowLimiter
from citizencenter.organisation.models import Category
from citizencenter.outbox import OutboxMessage

URL = "/api/v1/webform/inquiries"


def inquiry(**overrides) -> dict:
    data = {"category": "felanmalan", "subject": "Trasig gatubelysning",
            "message": "Lampan på Bytaregatan 4 lyser inte sedan i måndags.",
            "name": "Per Holm", "email": "P.Holm@Example.se", "phone": "070-765 43 21"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, data, address="198.51.100.7", **headers):
    return client.post(URL, json=data, headers=headers, environ_base={"REMOTE_ADDR": address})


def _cases(session) -> int:
    return session.scalar(select(func.count()).select_from(Case))


def _topics(session) -> list:
    return [(r.topic, r.payload) for r in session.scalars(select(OutboxMessage))]


def test_published_categories_need_no_token(form_client, session):
    session.scalar(select(Category).where(Category.slug == "ekonomiskt-bistand")).public = False
    session.commit()
    response = form_client.get("/api/v1/webform/categories?limit=100")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    slugs = [c["slug"] for c in response.get_json()["items"]]
    assert "felanmalan" in slugs and "ekonomiskt-bistand" not in slugs
    assert set(response.get_json()["items"][0]) == {"slug", "name"}
    assert form_client.get("/api/v1/webform/categories?colour=red").status_code == 422


def test_an_inquiry_opens_a_case_and_asks_for_an_acknowledgement(form_client, session):
    response = post(form_client, inquiry())
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "received" and body["reference"].startswith("MC-")
    case = session.scalar(select(Case).where(Case.reference == body["reference"]))
    assert case.channel == "webform" and case.category.slug == "felanmalan"
    assert case.subject == "Trasig gatubelysning"
    assert (case.contact.email, case.contact.phone, case.contact.name) == \
        ("p.holm@example.se", "+46707654321", "Per Holm")
    assert session.scalar(select(Message.body).where(Message.case_id == case.id)) == \
        "Lampan på Bytaregatan 4 lyser inte sedan i måndags."
    assert ("email.acknowledge", {"case_id": str(case.id)}) in _topics(session)
    assert ("case.created", {"case_id": str(case.id)}) in _topics(session)


def test_without_an_email_address_no_acknowledgement(form_client, session):
    response = post(form_client, inquiry(email=None, name=None))
    assert response.status_code == 201
    assert "email.acknowledge" not in [t for t, _ in _topics(session)]
    anonymous = post(form_client, inquiry(email=None, name=None, phone=None))
    case = session.scalar(select(Case).where(Case.reference == anonymous.get_json()["reference"]))
    assert case.contact is None


def test_a_filled_honeypot_looks_accepted_and_stores_nothing(form_client, session):
    before = _cases(session), len(_topics(session))
    response = post(form_client, inquiry(website="http://cheap-pills.example"))
    assert response.status_code == 202
    assert response.get_json() == {"status": "received"}
    assert (_cases(session), len(_topics(session))) == before


def test_a_filled_honeypot_with_an_idempotency_key_is_answered_the_same_twice(form_client,
                                                                             session):
    before = _cases(session), len(_topics(session))
    data = inquiry(website="http://cheap-pills.example")
    first = post(form_client, data, **{"Idempotency-Key": "form-honeypot-1"})
    again = post(form_client, data, **{"Idempotency-Key": "form-honeypot-1"})
    assert first.status_code == again.status_code == 202, first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() == {"status": "received"}
    assert (_cases(session), len(_topics(session))) == before


@pytest.mark.parametrize(("data", "field"), [
    (inquiry(email="not-an-address"), "email"),
    (inquiry(phone="ring mig"), "phone"),
    (inquiry(category="ingen-sadan"), "category"),
    (inquiry(category="ekonomiskt-bistand"), "category"),
    (inquiry(subject="   "), "subject"),
    (inquiry(subject="x" * 201), "subject"),
    (inquiry(message=None), "message"),
    (inquiry(admin=True), "admin"),
    (inquiry(priority="urgent"), "priority"),
])
def test_invalid_inquiries_are_422_problems(form_client, session, data, field):
    if data.get("category") == "ekonomiskt-bistand":
        session.scalar(select(Category).where(Category.slug == data["category"])).public = False
        session.commit()
    before = _cases(session)
    response = post(form_client, data)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert _cases(session) == before


def test_bodies_that_are_not_json(form_client, session):
    form = form_client.post(URL, data="subject=x", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.content_type == "application/problem+json"
    broken = form_client.post(URL, data="{", content_type="application/json")
    assert broken.status_code == 400 and broken.content_type == "application/problem+json"


def test_the_rate_limit_per_address(form_client, session, limiter_redis, app):
    for n in range(app.config["WEBFORM_RATE_LIMIT"]):
        # Refused and spam submissions count as well.
        assert post(form_client, inquiry(email="fel") if n == 0 else inquiry()).status_code \
            in (201, 422)
    before = _cases(session)
    refused = post(form_client, inquiry())
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert refused.get_json()["type"].endswith("/rate-limited")
    assert 0 < int(refused.headers["Retry-After"]) <= app.config["WEBFORM_RATE_WINDOW_S"]
    assert _cases(session) == before
    assert post(form_client, inquiry(), address="203.0.113.99").status_code == 201
    # Only a keyed hash of the address is kept.
    keys = [k.decode() for k in limiter_redis.scan_iter("citizencenter:webform:*")]
    assert len(keys) == 2 and not any("198.51.100.7" in k for k in keys)


def test_the_window_slides(form_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBFORM_RATE_LIMIT", 2)
    monkeypatch.setitem(app.config, "WEBFORM_RATE_WINDOW_S", 3)
    started = time.monotonic()
    assert post(form_client, inquiry()).status_code == 201
    assert post(form_client, inquiry()).status_code == 201
    refused = post(form_client, inquiry())
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3
    time.sleep(max(0.0, started + 3.1 - time.monotonic()))
    assert post(form_client, inquiry()).status_code == 201


def test_the_form_stays_open_when_redis_is_down(form_client, app, monkeypatch):
    dead = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "webform_limiter",
                        SlidingWindowLimiter(dead, "citizencenter:webform:rate", "k"))
    monkeypatch.setitem(app.config, "WEBFORM_RATE_LIMIT", 1)
    assert post(form_client, inquiry()).status_code == 201
    assert post(form_client, inquiry()).status_code == 201


def test_idempotency_key_on_the_public_form(form_client, session):
    data = inquiry(subject="Nedfallen gren i Stadsparken")
    first = post(form_client, data, **{"Idempotency-Key": "form-7f3a"})
    again = post(form_client, data, **{"Idempotency-Key": "form-7f3a"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert session.scalar(select(func.count()).select_from(Case)
                          .where(Case.subject == "Nedfallen gren i Stadsparken")) == 1
    other = post(form_client, inquiry(subject="Annat"), **{"Idempotency-Key": "form-7f3a"})
    assert other.status_code == 422
