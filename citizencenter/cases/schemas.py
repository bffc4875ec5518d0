import re

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.enums import CaseStatus, Channel, Direction, Priority
from citizencenter.contacts.service import normalise_phone
from citizencenter.pagination import PageArgsSchema, page_schema
from citizencenter.privacy import detection

MAX_BODY = 50_000
LIST_ORDERS = ("newest", "relevance")  # of GET /api/v1/cases (`cases.service.list_cases`)
# Keys the system writes into a message's channel_metadata; clients may not forge them
# (a client-set "auto" would stop a guide's reply from counting as the first response).
SYSTEM_METADATA_KEYS = frozenset({
    "auto", "kind", "email", "email_id", "headers", "has_html", "attachments", "defects",
    "auto_submitted", "threaded_by", "linked_case", "platform", "mid", "sent_at", "call_id",
    "source", "queue", "agent", "service_point", "duration_minutes",
    "answer_template"})


class PhoneNumber(checked.SingleLine):
    """A phone number, answered in E.164."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_phone(raw)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class Diarienummer(checked.SingleLine):
    """A records system's registration number, e.g. "KS 2026/0123", spaces collapsed."""

    SHAPE = re.compile(r"[0-9A-Za-zÅÄÖåäöÉé][0-9A-Za-zÅÄÖåäöÉé .:/_-]{0,39}")

    def _deserialize(self, value, attr, data, **kwargs):
        raw = " ".join(super()._deserialize(value, attr, data, **kwargs).split())
        if not self.SHAPE.fullmatch(raw) or not any(c.isdigit() for c in raw):
            raise ma.ValidationError("A diarienummer is 1 to 40 letters, digits, spaces and "
                                     ". : / _ -, with at least one digit.")
        if detection.find(raw):
            # It is published with the record: a personnummer has no place in it.
            raise ma.ValidationError("Holds a personnummer; a diarienummer never does.")
        return raw


class ContactInSchema(ma.Schema):
    name = checked.SingleLine(validate=validate.Length(min=1, max=200))
    email = checked.Email()
    phone = PhoneNumber(validate=validate.Length(max=40))


class ContactSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    # Shown only to those who may see the case at all: holders of the protected permission.
    protection = fields.String(allow_none=True, metadata={
        "description": "The contact's protected identity, if any: sekretessmarkering, "
                       "skyddad_folkbokforing or fingerade_personuppgifter"})


class UserRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


def _slug(attr):
    return fields.Function(lambda obj: getattr(getattr(obj, attr), "slug", None),
                           metadata={"type": "string", "nullable": True})


class CaseCreateSchema(ma.Schema):
    channel = fields.Enum(Channel, by_value=True, required=True)
    subject = checked.SingleLine(required=True, validate=validate.Length(min=1, max=300))
    description = checked.Text(required=True, validate=validate.Length(max=MAX_BODY))
    category = checked.slug()
    priority = fields.Enum(Priority, by_value=True)
    contact = fields.Nested(ContactInSchema)
    received_at = checked.PastMoment(
        metadata={"description": "When the contact happened, if earlier than now."})


class CaseUpdateSchema(checked.ChangeSchema):
    status = fields.Enum(CaseStatus, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    subject = checked.SingleLine(validate=validate.Length(min=1, max=300))
    category = checked.slug(allow_none=True)
    queue = checked.slug(allow_none=True)
    assignee = checked.Id(allow_none=True)
    resolved_at_first_contact = checked.Flag()
    diarienummer = Diarienummer(allow_none=True, metadata={
        "description": "The records system's registration number; null clears it."})



class CaseMatchSchema(ma.Schema):
    where = fields.String(data_key="in", metadata={"enum": ["subject", "message", "note"],
                                                   "description": "Where the case matched."})
    snippet = fields.String(metadata={
        "description": "HTML: the text around the first match, matched words in <mark>."})


class CaseSchema(ma.Schema):
    id = fields.UUID()
    reference = fields.String()
    diarienummer = fields.String(allow_none=True)
    channel = fields.Enum(Channel, by_value=True)
    status = fields.Enum(CaseStatus, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    subject = fields.String(attribute="shown_subject", metadata={
        "description": "\"Sekretessmarkerat ärende\" for a confidential case whose content "
                       "the caller may not see."})
    category = _slug("category")
    queue = _slug("queue")
    department = _slug("department")
    service_point = _slug("service_point")
    contact = fields.Nested(ContactSchema, allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    received_at = fields.AwareDateTime()
    routed_at = fields.AwareDateTime(allow_none=True)
    first_response_at = fields.AwareDateTime(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    resolved_at_first_contact = fields.Boolean()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()
    confidential = fields.Function(lambda case: case.confidential_at is not None,
                                   metadata={"type": "boolean"})
    match = fields.Nested(CaseMatchSchema, dump_only=True, metadata={
        "description": "With q (a list searched by text): where the case matched and the "
                       "text around it."})
    location = fields.Function(
        lambda case: _location(case.latitude, case.longitude, case.address),
        metadata={"type": "object", "nullable": True, "description":
                  "Where the matter is (an Open311 report): latitude and longitude in WGS84 "
                  "degrees and an address; null when not given."})


def _location(latitude, longitude, address) -> dict | None:
    if latitude is None and longitude is None and address is None:
        return None
    return {"latitude": latitude, "longitude": longitude, "address": address}


def _iso(moment):
    return None if moment is None else moment.isoformat()


# The columns of a row of `cases.service.LIST_COLUMNS`, in its order.
LIST_ITEM_COLUMNS = (
    "id", "reference", "diarienummer", "channel", "status", "priority", "subject",
    "category_slug", "queue_slug", "department_slug", "service_point_slug", "contact_id",
    "contact_name", "contact_email", "contact_phone", "contact_protection", "assignee_id",
    "assignee_name",
    "received_at", "routed_at", "first_response_at", "resolved_at", "closed_at",
    "resolved_at_first_contact", "updated_at", "version", "confidential_at", "latitude",
    "longitude", "address")


def dump_list_item(row) -> dict:
    """`CaseSchema().dump(case)` for a row of `cases.service.LIST_COLUMNS`, key for key and
    value for value, without marshmallow's per-field work (a list page is 50 to 100 of these;
    tests/cases/test_listing.py holds the two to the same bytes). The row is unpacked by
    position (`LIST_ITEM_COLUMNS`): a Row's attributes cost far more, 24 times a row."""
    (id_, reference, diarienummer, channel, status, priority, subject, category, queue,
     department, service_point, contact_id, contact_name, contact_email, contact_phone,
     contact_protection, assignee_id, assignee_name, received_at, routed_at,
     first_response_at, resolved_at, closed_at, first_contact, updated_at, version,
     confidential_at, latitude, longitude, address) = row
    return {
        "id": str(id_),
        "reference": reference,
        "diarienummer": diarienummer,
        "channel": channel.value,
        "status": status.value,
        "priority": priority.value,
        "subject": subject,
        "category": category,
        "queue": queue,
        "department": department,
        "service_point": service_point,
        "contact": None if contact_id is None else {
            "id": contact_id, "name": contact_name, "email": contact_email,
            "phone": contact_phone, "protection": contact_protection},
        "assignee": None if assignee_id is None else {"id": assignee_id, "name": assignee_name},
        "received_at": _iso(received_at),
        "routed_at": _iso(routed_at),
        "first_response_at": _iso(first_response_at),
        "resolved_at": _iso(resolved_at),
        "closed_at": _iso(closed_at),
        "resolved_at_first_contact": None if first_contact is None else bool(first_contact),
        "updated_at": _iso(updated_at),
        "version": version,
        "confidential": confidential_at is not None,
        "location": _location(latitude, longitude, address),
    }


def dump_case_page(page) -> dict:
    """A `CasePageSchema` answer for a page of `cases.service.list_cases`."""
    items = [dump_list_item(row) for row in page.items]
    matches = getattr(page, "matches", None)  # a search's page (cases.search.SearchPage)
    if matches is not None:
        for item, row in zip(items, page.items, strict=True):
            found = matches.get(row[0])
            item["match"] = found and {"in": found.where, "snippet": found.snippet}
    return {"items": items, "next_cursor": page.next_cursor}


class CaseQueryArgsSchema(PageArgsSchema):
    status = fields.Enum(CaseStatus, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    queue = checked.Token(validate=validate.Length(max=64))
    department = checked.Token(validate=validate.Length(max=64))
    assignee = checked.Id()
    received_from = checked.AwareDateTime()
    received_to = checked.AwareDateTime()
    q = checked.SingleLine(validate=validate.Length(min=1, max=200), metadata={
        "description": "Words to find in the subject, messages and notes (Swedish "
                       "full-text search)."})
    diarienummer = Diarienummer(metadata={
        "description": "The cases registered under this diarienummer (exact)."})
    sort = fields.String(validate=validate.OneOf(LIST_ORDERS), metadata={
        "description": "newest (the default without q) or relevance (the default with q: "
                       "the best of a search's newest 300 matches first). A search sorted "
                       "by newest pages through every match."})

    @ma.validates_schema
    def range_in_order(self, data, **kwargs):
        if data.get("received_from") and data.get("received_to") \
                and data["received_from"] > data["received_to"]:
            raise ma.ValidationError("received_from is after received_to.", "received_from")

    @ma.validates_schema
    def relevance_of_a_search(self, data, **kwargs):
        if data.get("sort") == "relevance" and "q" not in data:
            raise ma.ValidationError("Relevance orders a search: give q as well.", "sort")


class MessageCreateSchema(ma.Schema):
    direction = fields.Enum(Direction, by_value=True, required=True)
    body = checked.Text(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    channel_metadata = checked.FreeForm(reserved=SYSTEM_METADATA_KEYS, metadata={
        "description": "The client's own notes (at most 4 levels, 8 kB); keys the system "
                       "writes, such as auto and email, are refused."})


class DeliverySchema(ma.Schema):
    state = fields.String(metadata={"enum": ["queued", "sent", "failed", "uncertain"],
                                    "description": "uncertain: an attempt was interrupted "
                                                   "mid-send; check whether it arrived."})
    channel = fields.String(metadata={"description": "What carries it: email or social."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it failed."})
    sent_at = fields.AwareDateTime(allow_none=True)
    failed_at = fields.AwareDateTime(allow_none=True)


class MessageSchema(ma.Schema):
    id = fields.Integer()
    case_id = fields.UUID()
    direction = fields.Enum(Direction, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    author = fields.Nested(UserRefSchema, allow_none=True)
    body = fields.String()
    channel_metadata = fields.Dict()
    created_at = fields.AwareDateTime()
    delivery = fields.Nested(DeliverySchema, allow_none=True, dump_default=None, metadata={
        "description": "What became of an outgoing message sent to the citizen; null for "
                       "inbound messages, notes and logged calls or visits."})


CasePageSchema = page_schema(CaseSchema, "CasePage")
MessagePageSchema = page_schema(MessageSchema, "MessagePage")


class IdentityNumberSearchSchema(ma.Schema):
    personnummer = checked.SingleLine(
        required=True, validate=validate.Length(min=10, max=20),
        metadata={"description": "10 or 12 digits, with or without -, + or a space. "
                                 "In the body, never a URL."})


class CaseListSchema(ma.Schema):
    items = fields.List(fields.Nested(CaseSchema))


class IdentityNumberRevealSchema(ma.Schema):
    reason = checked.SingleLine(required=True, validate=validate.Length(min=3, max=500),
                                metadata={"description": "Why the number is needed; audited."})


class RevealedNumberSchema(ma.Schema):
    number = fields.String(metadata={"description": "12 digits, YYYYMMDDNNNC."})
    mask = fields.String()
    in_subject = fields.Boolean(metadata={"description": "Found in the subject or name."})
    message_ids = fields.List(fields.Integer())


class RevealedNumbersSchema(ma.Schema):
    items = fields.List(fields.Nested(RevealedNumberSchema))


class ConfidentialityInSchema(ma.Schema):
    reason = checked.SingleLine(required=True, validate=validate.Length(min=3, max=300),
                                metadata={"description": "The OSL provision that applies, "
                                                         "e.g. \"26 kap. 1 § OSL\"; audited."})


class ConfidentialitySchema(ma.Schema):
    confidential = fields.Function(lambda case: case.confidential_at is not None,
                                   metadata={"type": "boolean"})
    reason = fields.String(attribute="confidential_reason", allow_none=True)
    marked_at = fields.AwareDateTime(attribute="confidential_at", allow_none=True)
    marked_by = fields.String(attribute="confidential_by", allow_none=True)
    version = fields.Integer()
