"""GeoReport v2 answers: the spec's field names, as JSON values or as its XML elements."""

import xml.etree.ElementTree as ET
from datetime import datetime

from citizencenter.channels.open311.models import Open311Request
from citizencenter.channels.open311.service import STATUS_NOTES, status_of
from citizencenter.organisation.models import Category

# The element each item of a list is wrapped in, by the list's element.
ITEMS = {"services": "service", "service_requests": "request", "errors": "error",
         "attributes": "attribute", "values": "value"}


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def service_entry(category: Category) -> dict:
    return {"service_code": category.service_code, "service_name": category.name,
            "description": category.service_description or category.name,
            "metadata": bool(category.service_attributes), "type": "realtime",
            "keywords": ", ".join(category.service_keywords or []),
            "group": category.service_group or ""}


def definition(category: Category) -> dict:
    attributes = []
    for n, attribute in enumerate(category.service_attributes or [], start=1):
        entry = {"variable": True, "code": attribute["code"],
                 "datatype": attribute["datatype"],
                 "required": bool(attribute.get("required")),
                 "datatype_description": attribute.get("datatype_description", ""),
                 "order": attribute.get("order", n),
                 "description": attribute.get("description") or attribute["code"]}
        if attribute["datatype"] in ("singlevaluelist", "multivaluelist"):
            entry["values"] = [{"key": str(v["key"]), "name": v.get("name", v["key"])}
                               for v in attribute.get("values", [])]
        attributes.append(entry)
    return {"service_code": category.service_code, "attributes": attributes}


def receipt(request: Open311Request, citizen_link: str | None = None) -> dict:
    """The answer to the app that posted: the case reference and, for the citizen, the
    link to follow the case (only here: reading requests back is public)."""
    return {"service_request_id": request.case.reference, "token": request.token,
            "service_notice": f"Följ ditt ärende: {citizen_link}" if citizen_link else "",
            "account_id": None}


def token_entry(request: Open311Request) -> dict:
    return {"service_request_id": request.case.reference, "token": request.token}


def request_entry(request: Open311Request) -> dict:
    """What anyone may read of a request: never who sent it or what they wrote."""
    case = request.case
    entry = {"service_request_id": case.reference, "status": status_of(case)}
    if case.confidential_at is not None or (case.contact is not None
                                            and case.contact.protection is not None):
        return entry
    department = case.department or (case.category.department if case.category else None)
    return {**entry, "status_notes": STATUS_NOTES[case.status],
            "service_name": case.category.name if case.category else None,
            "service_code": request.service_code,
            "agency_responsible": department.name if department else "Medborgarcenter",
            "service_notice": "",
            "requested_datetime": _moment(case.received_at),
            "updated_datetime": _moment(case.updated_at),
            "expected_datetime": _moment(case.due_at),
            "address": case.address, "address_id": request.address_id, "zipcode": None,
            "lat": case.latitude, "long": case.longitude, "media_url": request.media_url}


def error_entries(status: int, description: str) -> list[dict]:
    return [{"code": status, "description": description}]


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), item)
    elif isinstance(value, dict):
        for name, item in value.items():
            _fill(ET.SubElement(element, name), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def to_xml(root: str, data) -> bytes:
    """`data` under the element `root`: lists as repeated items, None as an empty element."""
    element = ET.Element(root)
    _fill(element, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)
