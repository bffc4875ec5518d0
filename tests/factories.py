"""Small builders shared by the tests."""

import itertools

_counter = itertools.count(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def case_payload(**overrides) -> dict:
    n = next(_counter)
    payload = {
        "channel": "email",
        "subject": f"Fråga om bygglov {n}",
        "description": "Behöver jag bygglov för ett plank på 1,8 meter?",
        "category": "bygglov",
        "contact": {"name": "Karin Ek", "email": f"karin{n}@example.se"},
    }
    payload.update(overrides)
    return payload


def create_case(client, token: str, **overrides) -> dict:
    response = client.post("/api/v1/cases", json=case_payload(**overrides),
                           headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()
