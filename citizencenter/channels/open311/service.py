"""Open311 GeoReport v2: published categories as services, service requests as cases.

A request becomes a case through the same intake as every other channel (routing, SLA,
the acknowledgement), synchronously: the answer names the case reference. Reading
requests back is public, so it never shows the citizen's name, e-mail, phone or text,
and of a confidential case or a protected contact's only the reference and the status.
"""

import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizencenter import outbox
from citizencenter.accounts import service as accounts
from citizencenter.accounts.service import Principal
from citizencenter.cases import service as cases
from citizencenter.cases.enums import CaseStatus, Channel
from citizencenter.cases.models import Case
from citizencenter.channels.open311.models import Open311Request
from citizencenter.db import utcnow
from citizencenter.errors import AppError
from citizencenter.organisation.models import Category

SCOPE = "open311:submit"
CLOSED = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})
# The public status notes: what a case's status says to the citizen.
STATUS_NOTES = {
    CaseStatus.NEW: "Mottaget",
    CaseStatus.OPEN: "Under handläggning",
    CaseStatus.WAITING_ON_CITIZEN: "Väntar på komplettering",
    CaseStatus.FORWARDED: "Överlämnat till förvaltningen",
    CaseStatus.RESOLVED: "Åtgärdat",
    CaseStatus.CLOSED: "Avslutat",
}
WINDOW = timedelta(days=90)  # the spec's default and widest date range
MAX_RESULTS = 1000
SERVICE_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ATTRIBUTE_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
DATATYPES = frozenset({"string", "number", "datetime", "text", "singlevaluelist",
                       "multivaluelist"})


class Open311Error(AppError):
    """An error the GeoReport error list reports with the HTTP status as its code."""

    status, title, slug = 400, "Bad request", "open311-bad-request"


class InvalidApiKey(Open311Error):
    status, title, slug = 403, "Forbidden", "open311-api-key"


class Open311NotFound(Open311Error):
    status, title, slug = 404, "Not found", "open311-not-found"


def status_of(case: Case) -> str:
    return "closed" if case.status in CLOSED else "open"


def check_jurisdiction(given: str | None, ours: str) -> None:
    """A server of one jurisdiction may go without jurisdiction_id; given, it must be ours."""
    if given is not None and given != ours:
        raise Open311NotFound(f"jurisdiction_id {given!r} was not found.")


def authorize(session: Session, api_key: str | None) -> Principal:
    """The app an api_key was issued to; refused unless it holds the Open311 scope."""
    if not api_key:
        raise InvalidApiKey("api_key was not provided.")
    try:
        principal = accounts.authenticate(session, api_key)
    except AppError:
        raise InvalidApiKey("api_key is not valid.") from None
    if not principal.has_scope(SCOPE):
        raise InvalidApiKey("api_key is not valid for Open311.")
    return principal


def issue_key(session: Session, name: str, *, actor: str = "system") -> str:
    """Issue an api_key for a client app (stored hashed, shown once)."""
    _token, secret = accounts.create_token(session, name, scopes=[SCOPE], actor=actor)
    return secret


def services(session: Session) -> list[Category]:
    """The public categories published as Open311 services."""
    return list(session.scalars(select(Category).where(
        Category.service_code.is_not(None), Category.public.is_(True))
        .order_by(Category.service_code)))


def service(session: Session, service_code: str) -> Category:
    category = session.scalar(select(Category).where(Category.service_code == service_code,
                                                     Category.public.is_(True)))
    if category is None:
        raise Open311NotFound(f"service_code {service_code!r} was not found.")
    return category


def publish(session: Session, category_slug: str, service_code: str, *,
            description: str | None = None, group: str | None = None,
            keywords: list[str] | None = None, attributes: list[dict] | None = None
            ) -> Category:
    """Publish a category as an Open311 service with its definition's attributes."""
    category = session.scalar(select(Category).where(Category.slug == category_slug))
    if category is None:
        raise Open311NotFound(f"No category {category_slug!r}.")
    if not SERVICE_CODE.fullmatch(service_code):
        raise Open311Error("A service code is 1 to 64 letters, digits, '-' and '_'.")
    taken = session.scalar(select(Category.slug).where(Category.service_code == service_code,
                                                       Category.id != category.id))
    if taken:
        raise Open311Error(f"The service code {service_code!r} is {taken!r}'s.")
    _check_definition(attributes or [])
    category.service_code, category.service_description = service_code, description
    category.service_group, category.service_keywords = group, keywords or []
    category.service_attributes = attributes or []
    session.commit()
    return category


def _check_definition(attributes) -> None:
    if not isinstance(attributes, list):
        raise Open311Error("attributes: a list.")
    codes = set()
    for n, attribute in enumerate(attributes):
        if (not isinstance(attribute, dict) or attribute.get("datatype") not in DATATYPES
                or not ATTRIBUTE_CODE.fullmatch(str(attribute.get("code", "")))
                or attribute["code"] in codes):
            raise Open311Error(f"attributes.{n}: a code of its own (letters, digits, '-', "
                               f"'_') and a datatype of {', '.join(sorted(DATATYPES))}.")
        codes.add(attribute["code"])
        values = attribute.get("values", [])
        if attribute["datatype"].endswith("valuelist") and (
                not isinstance(values, list) or not values
                or not all(isinstance(v, dict) and "key" in v for v in values)):
            raise Open311Error(f"attributes.{n}.values: a list of {{key, name}}.")


def _checked_value(attribute: dict, values: list[str]) -> str | list[str]:
    code, kind = attribute["code"], attribute["datatype"]
    keys = {str(v["key"]) for v in attribute.get("values", [])}
    if kind == "multivaluelist":
        if any(v not in keys for v in values):
            raise Open311Error(f"attribute[{code}]: choose among {', '.join(sorted(keys))}.")
        return values
    if len(values) > 1:
        raise Open311Error(f"attribute[{code}] takes one value.")
    value = values[0].strip()
    if kind == "singlevaluelist" and value not in keys:
        raise Open311Error(f"attribute[{code}]: choose one of {', '.join(sorted(keys))}.")
    if kind == "number":
        try:
            float(value)
        except ValueError:
            raise Open311Error(f"attribute[{code}] is a number.") from None
    if kind == "datetime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise Open311Error(f"attribute[{code}] is a datetime (ISO 8601).") from None
    if len(value) > (4000 if kind == "text" else 300):
        raise Open311Error(f"attribute[{code}] is too long.")
    return value


def check_attributes(category: Category, given: dict[str, list[str]]) -> dict:
    """The answers to a service definition's attributes, each checked against it."""
    defined = {a["code"]: a for a in category.service_attributes or []}
    unknown = sorted(set(given) - set(defined))
    if unknown:
        raise Open311Error(f"attribute[{unknown[0]}] is not an attribute of this service.")
    answers = {}
    for code, attribute in defined.items():
        values = [v for v in given.get(code, []) if v.strip()]
        if not values:
            if attribute.get("required"):
                raise Open311Error(f"attribute[{code}] is required: "
                                   f"{attribute.get('description') or code}")
            continue
        answers[code] = _checked_value(attribute, values)
    return answers


def _answer_lines(category: Category, answers: dict) -> list[str]:
    lines = []
    for attribute in category.service_attributes or []:
        if attribute["code"] not in answers:
            continue
        names = {str(v["key"]): v.get("name", v["key"]) for v in attribute.get("values", [])}
        value = answers[attribute["code"]]
        shown = ", ".join(names.get(v, v) for v in (value if isinstance(value, list)
                                                      else [value]))
        lines.append(f"{attribute.get('description') or attribute['code']}: {shown}")
    return lines


def submit_request(session: Session, app: Principal, fields: dict,
                   attributes: dict[str, list[str]]) -> Open311Request:
    """Open a case for an app's service request; an acknowledgement goes to its e-mail."""
    category = service(session, fields["service_code"])
    answers = check_attributes(category, attributes)
    address = fields.get("address_string")
    name = " ".join(n for n in (fields.get("first_name"), fields.get("last_name")) if n)
    contact = {k: v for k, v in (("name", name), ("email", fields.get("email")),
                                 ("phone", fields.get("phone"))) if v}
    body = "\n".join([fields.get("description") or "", "", *_answer_lines(category, answers)]
                     ).strip()
    intake = Principal(actor=app.actor, scopes=frozenset())  # a channel's intake, as the form's
    case = cases.add_case(
        session, intake, channel=Channel.WEBFORM,
        subject=f"{category.name}: {address}"[:300] if address else category.name,
        description=body or category.name, category=category.slug, contact=contact or None,
        channel_metadata={"open311": {"service_code": category.service_code,
                                      "attributes": answers}},
        latitude=fields.get("lat"), longitude=fields.get("long"), address=address)
    request = Open311Request(case=case, token=secrets.token_urlsafe(24),
                             service_code=category.service_code, api_token_id=app.token_id,
                             attributes=answers, address_id=fields.get("address_id"),
                             media_url=fields.get("media_url"))
    session.add(request)
    if contact.get("email"):
        outbox.enqueue(session, "email.acknowledge", {"case_id": str(case.id)})
    session.commit()
    return request


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _window(start: datetime | None, end: datetime | None, now: datetime
            ) -> tuple[datetime, datetime]:
    start, end = start and _as_utc(start), end and _as_utc(end)
    if start is None and end is None:
        return now - WINDOW, now
    start, end = start or end - WINDOW, end or start + WINDOW
    if start > end:
        raise Open311Error("start_date lies after end_date.")
    if end - start > WINDOW:
        raise Open311Error("start_date and end_date may span at most 90 days.")
    return start, end


def find_requests(session: Session, *, references: list[str] | None = None,
                  service_codes: list[str] | None = None, statuses: list[str] | None = None,
                  start: datetime | None = None, end: datetime | None = None,
                  now: datetime | None = None) -> list[Open311Request]:
    """Requests by reference (which overrides the rest), or by code, status and date range."""
    query = select(Open311Request).join(Case, Open311Request.case_id == Case.id)
    if references:
        query = query.where(Case.reference.in_(references[:MAX_RESULTS]))
    else:
        start, end = _window(start, end, now or utcnow())
        query = query.where(Case.received_at >= start, Case.received_at <= end)
        if service_codes:
            query = query.where(Open311Request.service_code.in_(service_codes))
        if statuses:
            wrong = set(statuses) - {"open", "closed"}
            if wrong:
                raise Open311Error(f"status {sorted(wrong)[0]!r}: use open or closed.")
            if "open" not in statuses:
                query = query.where(Case.status.in_(CLOSED))
            elif "closed" not in statuses:
                query = query.where(Case.status.not_in(CLOSED))
    query = query.order_by(Case.received_at.desc(), Case.id).limit(MAX_RESULTS)
    return list(session.scalars(query).unique())


def request_by_reference(session: Session, reference: str) -> Open311Request:
    found = find_requests(session, references=[reference])
    if not found:
        raise Open311NotFound(f"service_request_id {reference!r} was not found.")
    return found[0]


def request_by_token(session: Session, token: str) -> Open311Request:
    request = session.scalar(select(Open311Request).where(Open311Request.token == token))
    if request is None:
        raise Open311NotFound("token was not found.")
    return request
