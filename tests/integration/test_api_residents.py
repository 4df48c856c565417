"""/api/v1/residents: coordinators only; reads are audited; updates use the forms' rules."""

from __future__ import annotations

from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.services.accounts import users
from can_crm.services.common import audit
from can_crm.services.requests.events import Actor


@pytest.fixture
def bearer(make_user: Any) -> Any:
    def make(role: str = "coordinator", **kwargs: Any) -> tuple[Any, dict[str, str]]:
        user = make_user(role, **kwargs)
        _, plain = users.issue_token(user, "test")
        unit_of_work.commit()
        return user, {"Authorization": f"Bearer {plain}"}

    return make


def test_list_residents_paginates_and_searches(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer()
    for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper"):
        make_request(resident={"name": name})
    page = client.get("/api/v1/residents?per_page=2", headers=headers).get_json()
    assert (page["total"], len(page["items"]), page["page"]) == (3, 2, 1)
    assert [r["name"] for r in page["items"]] == ["Ada Lovelace", "Alan Turing"]
    assert page["items"][0]["phone"] == "+447911123456"
    second = client.get(page["links"]["next"], headers=headers).get_json()
    assert [r["name"] for r in second["items"]] == ["Grace Hopper"] and second["links"]["next"] is None

    saved = client.post("/api/v1/searches", json={"scope": "residents", "q": "hopper"}, headers=headers)
    assert saved.status_code == 201
    found = client.get(f"/api/v1/residents?search={saved.get_json()['search']}", headers=headers).get_json()
    assert [r["name"] for r in found["items"]] == ["Grace Hopper"]
    assert "hopper" not in found["links"]["self"].lower() and "search=" in found["links"]["self"]
    refused = client.get("/api/v1/residents?q=hopper", headers=headers)
    assert refused.status_code == 422 and "not accepted in the URL" in refused.get_json()["error"]["message"]


def test_reading_a_resident_is_audited(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    coordinator, headers = bearer()
    req = make_request()
    response = client.get(f"/api/v1/residents/{req.resident_id}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == req.resident_id and body["name"] == "Margaret Okafor" and body["shielding"] is True
    entries = audit.entries_for("resident", req.resident_id)
    assert [(e.actor_id, e.action) for e in entries] == [(coordinator.id, "view_resident")]


def test_coordinator_reading_a_request_is_audited_too(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    coordinator, headers = bearer()
    partner, partner_headers = bearer("partner")
    req = make_request(actor=Actor(role="partner", user_id=partner.id))
    assert client.get(f"/api/v1/requests/{req.reference}", headers=partner_headers).status_code == 200
    assert client.get(f"/api/v1/requests/{req.reference}", headers=headers).status_code == 200
    assert [e.actor_id for e in audit.entries_for("resident", req.resident_id)] == [coordinator.id]


def test_missing_resident_is_404(client: Any, db: Any, bearer: Any) -> None:
    _, headers = bearer()
    response = client.get("/api/v1/residents/424242", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.patch("/api/v1/residents/424242", json={"town": "London"}, headers=headers).status_code == 404


@pytest.mark.parametrize("role", ["partner", "councillor", "volunteer", "admin"])
def test_only_coordinators_reach_residents(client: Any, db: Any, bearer: Any, make_request: Any, role: str) -> None:
    req = make_request()
    _, headers = bearer(role)
    for response in (
        client.get("/api/v1/residents", headers=headers),
        client.get(f"/api/v1/residents/{req.resident_id}", headers=headers),
        client.patch(f"/api/v1/residents/{req.resident_id}", json={"town": "London"}, headers=headers),
    ):
        assert response.status_code == 403
    assert audit.entries_for("resident", req.resident_id) == []


def test_residents_need_authentication(client: Any, db: Any) -> None:
    assert client.get("/api/v1/residents").status_code == 401
    assert client.patch("/api/v1/residents/1", json={"town": "London"}).status_code == 401


def test_update_changes_only_the_fields_sent(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    coordinator, headers = bearer()
    req = make_request()
    response = client.patch(
        f"/api/v1/residents/{req.resident_id}",
        json={"address": "14 Fulham Palace Road", "phone": "020 7946 0000", "nhs_number": "943 476 5919"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["address_line1"] == "14 Fulham Palace Road"
    assert body["phone"] == "+442079460000" and body["nhs_number"] == "9434765919"
    assert body["name"] == "Margaret Okafor" and body["shielding"] is True
    assert [e.action for e in audit.entries_for("resident", req.resident_id)] == ["update_resident"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"postcode": "ZZ99 ZZZ"}, "postcode"),
        ({"postcode": ""}, "postcode"),
        ({"postcode": None}, "postcode"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": 12}, "name"),
        ({"name": "<b>Bold</b>"}, "name"),
        ({"address": "x" * 121}, "address"),
        ({"address_line1": ""}, "address_line1"),
        ({"address": "1 Road", "address_line1": "2 Road"}, "address"),
        ({"phone": "0123"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"email": "nobody@"}, "email"),
        ({"preferred_channel": "email"}, "email"),
        ({"preferred_channel": "fax"}, "preferred_channel"),
        ({"nhs_number": "9434765918"}, "nhs_number"),
        ({"shielding": "no"}, "shielding"),
        ({"vulnerabilities": "x" * 2001}, "vulnerabilities"),
        ({"accessibility_needs": "<script>x</script>"}, "accessibility_needs"),
        ({"lawful_basis": "legitimate_interests"}, "lawful_basis"),
        ({"id": 5}, "id"),
        ({"ward_code": "E05000000"}, "ward_code"),
    ],
)
def test_bad_updates_are_refused_with_the_field_named(
    client: Any, db: Any, bearer: Any, make_request: Any, body: dict[str, Any], field: str
) -> None:
    _, headers = bearer()
    req = make_request()
    response = client.patch(f"/api/v1/residents/{req.resident_id}", json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"], error
    resident = client.get(f"/api/v1/residents/{req.resident_id}", headers=headers).get_json()
    assert resident["name"] == "Margaret Okafor" and resident["phone"] == "+447911123456"
    assert resident["preferred_channel"] == "phone"


def test_update_body_must_be_a_json_object(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer()
    req = make_request()
    url = f"/api/v1/residents/{req.resident_id}"
    assert client.patch(url, data="[1]", content_type="application/json", headers=headers).status_code == 422
    assert client.patch(url, data="{", content_type="application/json", headers=headers).status_code == 400
    assert client.patch(url, data="town=London", headers=headers).status_code == 415


def test_bad_list_arguments_are_422(client: Any, db: Any, bearer: Any) -> None:
    _, headers = bearer()
    for query, field in (("per_page=101", "per_page"), ("page=0", "page"), ("page=x", "page")):
        response = client.get(f"/api/v1/residents?{query}", headers=headers)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
