"""What the OpenAPI document says about errors: every one is RFC 9457 problem+json.

flask-smorest documents errors as its own JSON `Error`; errors.py answers
`application/problem+json`. This module makes the document say what the API does, in one
place rather than per view: the `Problem` schema, the shared error responses, and the
errors every operation of a given shape can answer (401/403 with a token, 404 with a path
parameter, 400/413/415/422 with a body, 412/428 with If-Match).
"""

import http

import marshmallow as ma
from apispec import BasePlugin
from flask_smorest.utils import prepare_response

from citizencenter.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(required=True, metadata={"description": "Dotted path, or _schema"})
    message = ma.fields.String(required=True)
    location = ma.fields.String(metadata={"description": "json, query, headers, form, body…"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error of this API answers."""

    class Meta:
        unknown = ma.INCLUDE  # RFC 9457 lets a problem type add members

    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True, validate=ma.validate.Range(min=400, max=599))
    detail = ma.fields.String(required=True)
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema),
                            metadata={"description": "One entry per refused field"})


def error_statuses(path: str, operation: dict) -> list[int]:
    """The errors any operation of this shape can answer, whatever its view does."""
    statuses = []
    if operation.get("security", ["inherited"]):
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    if "requestBody" in operation:
        statuses += [400, 413, 415, 422]
    elif any(p.get("in") == "query" for p in parameters):
        statuses += [400, 422]  # a malformed cursor is a 400
    if any(p.get("name") == "If-Match" for p in parameters):
        statuses += [412, 428]
    return statuses


class ProblemResponsesPlugin(BasePlugin):
    """Declares every operation's errors as application/problem+json."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            present = {str(code) for code in responses}
            for status in error_statuses(path or "", operation):
                if str(status) not in present:
                    responses[str(status)] = http.HTTPStatus(status).name
            for code, response in responses.items():
                # An alt_response(4xx) without a schema still answers a problem.
                if str(code)[0] in "45" and isinstance(response, dict) \
                        and "content" not in response:
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}

    def schema_helper(self, name, definition, **kwargs):
        # Constraints a schema checks in code (validates_schema) that its fields cannot say:
        # `class Meta: json_schema = {"minProperties": 1}`.
        meta = getattr(kwargs.get("schema"), "Meta", None)
        return dict(getattr(meta, "json_schema", None) or {}) or None


def register_error_responses(api) -> None:
    """The shared responses (UNAUTHORIZED, NOT_FOUND, …, DEFAULT_ERROR) as problems."""
    for status in http.HTTPStatus:
        response = {"description": status.phrase}
        if status >= 400:
            response["schema"] = ProblemSchema
        prepare_response(response, api.spec, PROBLEM_JSON)
        api.spec.components.response(status.name, response, lazy=True)
    response = {"description": "Any other error", "schema": ProblemSchema}
    prepare_response(response, api.spec, PROBLEM_JSON)
    api.spec.components.response(api.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


# One Server-Sent Event (the fields of the WHATWG event stream), as OpenAPI 3.2's itemSchema.
SSE_EVENT = {"type": "object", "properties": {
    "event": {"type": "string"}, "data": {"type": "string", "description": "JSON"},
    "id": {"type": "string"}, "retry": {"type": "integer"}}}


def _body_schema(media_type: str) -> dict:
    if media_type.endswith("json"):
        return {"type": "object"}
    return SSE_EVENT if media_type == "text/event-stream" else {"type": "string"}


def answers(*media_types: str, status: int = 200) -> dict:
    """`blp.doc` for a view whose body has no schema: which media types it answers with."""
    content = {media_type: {"schema": _body_schema(media_type)} for media_type in media_types}
    return {"responses": {str(status): {"description": http.HTTPStatus(status).phrase,
                                        "content": content}}}
