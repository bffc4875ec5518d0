"""The diarienummer: set and cleared through PATCH, audited, shown, and filtered on exactly."""

import uuid
from urllib.parse import quote

from sqlalchemy import select

from citizencenter.audit.models import AuditEntry
from citizencenter.cases.models import Case
from tests.cases.test_api import _forward, _patch
from tests.factories import bearer, create_case


def _ids(client, token, diarienummer: str) -> set[str]:
    response = client.get(f"/api/v1/cases?diarienummer={quote(diarienummer)}&limit=100",
                          headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return {c["id"] for c in response.get_json()["items"]}


def test_a_guide_registers_cases_under_one_diarienummer_and_the_list_finds_them(
        client, tokens, session):
    token = tokens["guide"]
    number = f"KS 2026/{uuid.uuid4().int % 10**6:06d}"  # other tests' cases share the tables
    first, second, other = (create_case(client, token) for _ in range(3))
    changed = _patch(client, token, first, diarienummer=f"  {number.replace(' ', '   ')} ")
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["diarienummer"] == number  # spaces collapsed, ends trimmed
    assert changed.headers["ETag"] == '"2"'
    # One registration may cover several inquiries: the number is not unique.
    assert _patch(client, tokens["supervisor"], second, diarienummer=number).status_code == 200
    assert _patch(client, token, other, diarienummer=number + "1").status_code == 200

    assert _ids(client, token, number) == {first["id"], second["id"]}
    assert _ids(client, token, number[:-1]) == set()  # exact, not a prefix or a search
    assert _ids(client, token, number.lower()) == set()
    read = client.get(f"/api/v1/cases/{first['id']}", headers=bearer(token)).get_json()
    assert read["diarienummer"] == number
    [listed] = [c for c in client.get(f"/api/v1/cases?diarienummer={quote(number)}",
                                      headers=bearer(token)).get_json()["items"]
                if c["id"] == first["id"]]
    assert listed == read

    [entry] = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case.updated", AuditEntry.entity_id == first["id"])).all()
    assert entry.data["fields"] == ["diarienummer"] and entry.actor.startswith("user:")

    cleared = _patch(client, token, first, diarienummer=None)
    assert cleared.status_code == 200 and cleared.get_json()["diarienummer"] is None
    assert _ids(client, token, number) == {second["id"]}
    assert session.get(Case, uuid.UUID(first["id"])).diarienummer is None


def test_bad_diarienummer_is_a_problem_naming_the_field_and_changes_nothing(
        client, tokens, session):
    case = create_case(client, tokens["guide"])
    for bad in ("", "   ", "KS/ABC", "<b>2026</b>", "2026/" + "1" * 40, "KS 2026/1\n2",
                "19121212-1212", "KS 121212-1212", 2026, ["KS 2026/1"]):
        response = _patch(client, tokens["guide"], case, diarienummer=bad)
        assert response.status_code == 422, (bad, response.get_json())
        assert response.content_type == "application/problem+json"
        assert "diarienummer" in str(response.get_json()), bad
        if isinstance(bad, str):  # a query string holds only text ("2026" is a number)
            listed = client.get(f"/api/v1/cases?diarienummer={quote(bad)}",
                                headers=bearer(tokens["guide"]))
            assert listed.status_code == 422, bad
    assert session.get(Case, uuid.UUID(case["id"])).version == 1
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.updated", AuditEntry.entity_id == case["id"])) is None


def test_department_staff_neither_set_it_nor_find_other_departments_cases_by_it(
        client, tokens):
    number = f"BN 2026/{uuid.uuid4().int % 10**6:06d}"
    ours, theirs = create_case(client, tokens["guide"]), create_case(client, tokens["guide"])
    for case in (ours, theirs):
        assert _patch(client, tokens["guide"], case, diarienummer=number).status_code == 200
    _forward(client, tokens["guide"], ours, "stadsbyggnad")
    _forward(client, tokens["guide"], theirs, "utbildning")
    assert _ids(client, tokens["department"], number) == {ours["id"]}
    refused = _patch(client, tokens["department"], ours, diarienummer="BN 2026/1")
    assert refused.status_code == 403, refused.get_json()
    assert _ids(client, tokens["guide"], number) == {ours["id"], theirs["id"]}
