"""The `georeport` client reads the served endpoint in JSON and XML; reports are posted as
the spec's form-encoded POST requests (the client only reads)."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from georeport import GeoReport
from sqlalchemy import update

from citizencenter.cases.models import Case
from citizencenter.channels.open311 import service as open311
from tests.channels.open311.conftest import publish_lamps
from tests.web.conftest import live_server, web_users  # noqa: F401  (the served app)


def _listed(answer) -> list[dict]:
    """xmltodict gives one element as a dict and several as a list."""
    return answer if isinstance(answer, list) else [answer]


def _w3(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def served(live_server, committed, open311_redis):  # noqa: F811
    lamps = publish_lamps(committed)
    key = open311.issue_key(committed, "Felanmälan Lund")
    root = f"{live_server.url}/open311/v2"
    references = []
    for lamp, street in (("gatlampa", "Bytaregatan 4"), ("parklampa", "Stadsparken")):
        answer = requests.post(f"{root}/requests.json", data={
            "api_key": key, "jurisdiction_id": "lund.se", "service_code": lamps.service_code,
            "lat": "55.7047", "long": "13.1910", "address_string": f"{street}, Lund",
            "attribute[lampa]": lamp, "email": "olle.o311@example.se",
            "description": "Lampan blinkar."}, timeout=30)
        assert answer.status_code == 201, answer.text
        receipt = answer.json()[0]
        # The acknowledgement carries the citizen's link to follow the case.
        assert receipt["service_notice"].startswith(
            f"Följ ditt ärende: {live_server.url}/mitt-arende/")
        references.append(receipt["service_request_id"])
    committed.execute(update(Case).where(Case.reference == references[1])
                      .values(status="resolved"))
    committed.commit()
    return root, lamps, references


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_client_reads_services_definitions_and_requests(served, output_format):
    root, lamps, (open_one, closed_one) = served
    client = GeoReport(root, jurisdiction="lund.se", output_format=output_format)
    services = _listed(client.get_service_list())
    ours = next(s for s in services if s["service_code"] == lamps.service_code)
    assert ours["service_name"] == "Gatubelysning" and ours["group"] == "Gator och trafik"
    assert str(ours["metadata"]).lower() == "true" and ours["type"] == "realtime"
    definition = client.get_service_definition(lamps.service_code)
    attributes = definition["attributes"]
    lamp = _listed(attributes["attribute"] if output_format == "xml" else attributes)[0]
    assert lamp["code"] == "lampa" and lamp["description"] == "Vilken lampa?"
    values = lamp["values"]["value"] if output_format == "xml" else lamp["values"]
    assert [v["key"] for v in values] == ["gatlampa", "parklampa"]

    now = datetime.now(UTC)  # a wide window: the machine may be slow
    window = {"start_date": _w3(now - timedelta(hours=2)),
              "end_date": _w3(now + timedelta(hours=2))}
    found = _listed(client.get_service_requests(service_code=lamps.service_code, **window))
    assert {r["service_request_id"] for r in found} == {open_one, closed_one}
    closed = _listed(client.get_service_requests(service_code=lamps.service_code,
                                                 status="closed", **window))
    assert [(r["service_request_id"], r["status"]) for r in closed] == [(closed_one, "closed")]
    opened = _listed(client.get_service_requests(service_code=lamps.service_code,
                                                 status="open", **window))
    assert [r["service_request_id"] for r in opened] == [open_one]
    one = client.get_service_request(open_one)
    assert one["address"] == "Bytaregatan 4, Lund" and float(one["lat"]) == 55.7047
    assert one["status_notes"] == "Mottaget" and "olle" not in str(one)
    assert "mitt-arende" not in str(one) and not one.get("service_notice")

    earlier = GeoReport(root, output_format="json").get_service_requests(
        service_code=lamps.service_code, start_date="2020-01-01T00:00:00Z",
        end_date="2020-03-01T00:00:00Z")
    assert earlier == []


def test_the_client_hears_the_error_list(served):
    root, _lamps, _references = served
    with pytest.raises(requests.HTTPError) as refused:
        GeoReport(root, output_format="xml").get_service_definition("finns-inte")
    assert refused.value.response.status_code == 404
    assert b"<errors><error><code>404</code>" in refused.value.response.content
    wrong_key = requests.post(f"{root}/requests.xml", data={"api_key": "fel", "service_code":
                                                            "x", "lat": "1", "long": "1"},
                              timeout=30)
    assert wrong_key.status_code == 403 and b"<code>403</code>" in wrong_key.content
