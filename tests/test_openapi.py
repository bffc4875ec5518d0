from openapi_spec_validator import validate


def test_openapi_document_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/cases" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Health is the one operation that needs no token.
    assert spec["paths"]["/api/v1/health"]["get"]["security"] == []


def test_browsable_docs_are_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.data


METHODS = ("get", "put", "post", "patch", "delete")


def _spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _resolve(spec, node: dict) -> dict:
    while "$ref" in node:
        node = spec["components"][node["$ref"].split("/")[2]][node["$ref"].split("/")[3]]
    return node


def test_every_reference_resolves(client):
    spec = _spec(client)
    refs = set(_refs(spec))
    assert "#/components/schemas/CallEvent" in refs
    for ref in refs:
        prefix, kind, name = ref.rsplit("/", 2)
        assert prefix == "#/components" and name in spec["components"].get(kind, {}), ref


def test_every_error_is_documented_as_problem_json(client):
    spec = _spec(client)
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    checked = 0
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        expected = {"default"}
        if operation.get("security", spec["security"]):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413", "415", "422"}
        assert expected <= set(responses), f"{method.upper()} {path}: {sorted(responses)}"
        for status, response in responses.items():
            if status.startswith("2") and status != "204":
                assert _resolve(spec, response).get("content"), f"{method.upper()} {path} {status}"
            if status == "default" or status.startswith("4"):
                content = _resolve(spec, response).get("content")
                assert content and list(content) == ["application/problem+json"], \
                    f"{method.upper()} {path} {status}: {content}"
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}
                checked += 1
    assert checked > 200


def test_enforced_constraints_are_in_the_schemas(client):
    schemas = _spec(client)["components"]["schemas"]
    for name in ("CaseUpdate", "GuideUpdate", "PolicyChange"):
        assert schemas[name]["minProperties"] == 1, name
    actions = schemas["RuleActions"]
    assert {"required": ["queue"]} in actions["oneOf"]
    assert {"required": ["department"]} in actions["oneOf"]
    assert schemas["CaseCreate"]["properties"]["subject"]["maxLength"] == 300
    assert "enum" in schemas["CaseCreate"]["properties"]["channel"]
    batch = [s for s in _spec(client)["paths"]["/api/v1/integrations/calls/events"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]["oneOf"] if "items" in s][0]
    assert batch["minItems"] == 1


def test_a_refused_patch_answers_as_documented(client, tokens):
    from tests.factories import bearer, create_case

    case = create_case(client, tokens["admin"])
    url = f"/api/v1/cases/{case['id']}"
    etag = client.get(url, headers=bearer(tokens["admin"])).headers["ETag"]
    response = client.patch(url, json={}, headers={**bearer(tokens["admin"]), "If-Match": etag})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()) >= {"type", "title", "status", "detail"}
