"""The form-encoded fields of a GeoReport `POST requests` and the query of `GET requests`."""

import re

import marshmallow as ma
from marshmallow import fields, validate

from citizencenter import fields as checked
from citizencenter.cases.schemas import PhoneNumber

# attribute[code]=value, and attribute[code][]=value for a multi-value list.
ATTRIBUTE_KEY = re.compile(r"attribute\[([^\[\]]{1,100})\](?:\[\])?")
# Read by the views, not by the request schema.
TRANSPORT_FIELDS = frozenset({"api_key", "jurisdiction_id", "format"})


class ServiceRequestSchema(ma.Schema):
    service_code = checked.Token(required=True, validate=validate.Length(min=1, max=64))
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    long = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    address_string = checked.SingleLine(strip=True, validate=validate.Length(max=300))
    address_id = checked.SingleLine(strip=True, validate=validate.Length(max=100))
    email = checked.Email()
    device_id = checked.SingleLine(strip=True, validate=validate.Length(max=100))
    account_id = checked.SingleLine(strip=True, validate=validate.Length(max=100))
    first_name = checked.SingleLine(strip=True, validate=validate.Length(max=100))
    last_name = checked.SingleLine(strip=True, validate=validate.Length(max=100))
    phone = PhoneNumber(validate=validate.Length(max=40))
    description = checked.Text(strip=True, validate=validate.Length(max=4000))
    media_url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500))

    @ma.validates_schema
    def a_place(self, data, **kwargs):
        if ("lat" in data) != ("long" in data):
            raise ma.ValidationError("Give lat and long together.", "lat")
        if not ({"lat", "address_string", "address_id"} & data.keys()):
            raise ma.ValidationError("Give lat and long, address_string or address_id.",
                                     "lat")


class RequestQuerySchema(ma.Schema):
    service_request_id = checked.SingleLine(validate=validate.Length(max=2000))
    service_code = checked.SingleLine(validate=validate.Length(max=2000))
    start_date = fields.DateTime()
    end_date = fields.DateTime()
    status = checked.SingleLine(validate=validate.Length(max=100))


def _listed(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] or None if value else None


def load_service_request(form) -> tuple[dict, dict[str, list[str]]]:
    """The fields and the attributes of a form-encoded service request (a MultiDict)."""
    plain, attributes = {}, {}
    for key in form:
        match = ATTRIBUTE_KEY.fullmatch(key)
        if match:
            attributes.setdefault(match.group(1), []).extend(form.getlist(key))
        elif key not in TRANSPORT_FIELDS:
            values = [v for v in form.getlist(key) if v.strip()]
            if values:
                plain[key] = values[-1]
    return ServiceRequestSchema().load(plain), attributes


def load_request_query(args) -> dict:
    """The filters of `GET requests`: lists split at commas, dates as aware datetimes."""
    data = RequestQuerySchema().load({k: v for k, v in args.items()
                                      if k not in TRANSPORT_FIELDS and v.strip()})
    return {"references": _listed(data.get("service_request_id")),
            "service_codes": _listed(data.get("service_code")),
            "statuses": _listed(data.get("status")),
            "start": data.get("start_date"), "end": data.get("end_date")}
