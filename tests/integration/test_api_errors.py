"""Bad input to the API: always a 4xx with the one envelope, a `fields` entry naming the field, never a 500."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.accounts import users
from can_crm.services.common import times


@pytest.fixture
def good_body(hf_postcode: str) -> dict[str, Any]:
    return {
        "resident": {
            "name": "Margaret Okafor",
            "address": "12 Fulham Palace Road",
            "postcode": hf_postcode,
            "phone": "07911 123456",
            "preferred_channel": "phone",
        },
        "type": "shopping",
        "urgency": 2,
        "details": "Weekly shop",
        "due_by": (times.today() + timedelta(days=2)).isoformat(),
    }


def assert_envelope(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"} and error["code"] and error["message"]
    assert isinstance(error["message"], str)
    if field is not None:
        assert field in error.get("fields", {}), error
        assert isinstance(error["fields"][field], str) and error["fields"][field]
    return error


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the dotted `path` set to `value` (or removed when value is ...)."""
    out = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    target = out
    for part in parents:
        target = target[part]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return out


BAD_REQUESTS = [
    # (path to change, new value, field expected in error.fields)
    ("type", ..., "type"),
    ("type", None, "type"),
    ("type", 7, "type"),
    ("type", "plumbing", "type"),
    ("type", ["shopping"], "type"),
    ("urgency", "2", "urgency"),
    ("urgency", 7, "urgency"),
    ("urgency", True, "urgency"),
    ("urgency", 2.5, "urgency"),
    ("details", 12, "details"),
    ("details", {"text": "x"}, "details"),
    ("details", "x" * 5000, "details"),
    ("details", "<script>alert(1)</script>", "details"),
    ("details", "Bring <b>milk</b>", "details"),
    ("volunteer_notes", "x" * 1001, "volunteer_notes"),
    ("due_by", "31/12/2026", "due_by"),
    ("due_by", "2020-01-01", "due_by"),
    ("due_by", 20261231, "due_by"),
    ("recurrence", "hourly", "recurrence"),
    ("required_skills", "juggling", "required_skills"),
    ("required_skills", ["driving", 3], "required_skills.1"),
    ("min_dbs", "platinum", "min_dbs"),
    ("colour", "blue", "colour"),
    ("resident", None, "resident"),
    ("resident", ["Margaret"], "resident"),
    ("resident", "Margaret Okafor", "resident"),
    ("resident", ..., "resident"),
    ("resident_id", 5, "resident"),
    ("resident.name", ..., "resident.name"),
    ("resident.name", 42, "resident.name"),
    ("resident.name", "", "resident.name"),
    ("resident.name", "x" * 121, "resident.name"),
    ("resident.name", "Robert'); DROP TABLE residents;--", "resident.name"),
    ("resident.name", "<img src=x onerror=alert(1)>", "resident.name"),
    ("resident.address", ..., "resident.address"),
    ("resident.address", "A" * 10_000, "resident.address"),
    ("resident.address_line1", "1 High Street", "resident.address"),
    ("resident.postcode", "NOT A POSTCODE", "resident.postcode"),
    ("resident.postcode", 12345, "resident.postcode"),
    ("resident.postcode", ..., "resident.postcode"),
    ("resident.phone", "07700 900000", "resident.phone"),
    ("resident.phone", "12", "resident.phone"),
    ("resident.phone", 7911123456, "resident.phone"),
    ("resident.email", "not-an-email", "resident.email"),
    ("resident.preferred_channel", "pigeon", "resident.preferred_channel"),
    ("resident.preferred_channel", "email", "resident.email"),
    ("resident.nhs_number", "123 456 7890", "resident.nhs_number"),
    ("resident.shielding", "yes", "resident.shielding"),
    ("resident.consent_given", 1, "resident.consent_given"),
    ("resident.lawful_basis", "because", "resident.lawful_basis"),
    ("resident.colour", "blue", "resident.colour"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD_REQUESTS, ids=[f"{p}={v!r:.20}" for p, v, _ in BAD_REQUESTS])
def test_bad_request_body_is_refused_with_the_field_named(
    client: Any, db: Any, headers: dict[str, str], good_body: dict[str, Any], path: str, value: Any, field: str
) -> None:
    response = client.post("/api/v1/requests", json=changed(good_body, path, value), headers=headers)
    error = assert_envelope(response, 422, field)
    assert error["code"] == "validation_failed"
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == 0
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_good_body_is_accepted(client: Any, db: Any, headers: dict[str, str], good_body: dict[str, Any]) -> None:
    # The control for the table above: only the changed field made those fail.
    assert client.post("/api/v1/requests", json=good_body, headers=headers).status_code == 201


def test_several_wrong_fields_are_all_named(client: Any, db: Any, headers: dict[str, str], good_body: dict) -> None:
    body = changed(changed(good_body, "resident.postcode", "nope"), "type", "plumbing")
    error = assert_envelope(client.post("/api/v1/requests", json=body, headers=headers), 422)
    assert {"type", "resident.postcode"} <= set(error["fields"])


def test_unknown_fields_are_named_in_the_message(
    client: Any, db: Any, headers: dict[str, str], good_body: dict
) -> None:
    error = assert_envelope(
        client.post("/api/v1/requests", json={**good_body, "priority": "high"}, headers=headers), 422, "priority"
    )
    assert "priority" in error["fields"]["priority"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "field"),
    [
        ('{"type": "shopping",', "application/json", 400, "body"),
        ("{'type': 'shopping'}", "application/json", 400, "body"),
        ("\xff\xfe", "application/json", 400, "body"),
        ("", "application/json", 422, "type"),
        ("null", "application/json", 422, "body"),
        ("[]", "application/json", 422, "body"),
        ('"a string"', "application/json", 422, "body"),
        ("42", "application/json", 422, "body"),
        ("type=shopping", "application/x-www-form-urlencoded", 415, None),
        ('{"type": "shopping"}', "text/plain", 415, None),
    ],
)
def test_malformed_bodies_are_refused(
    client: Any, db: Any, headers: dict[str, str], data: str, content_type: str, status: int, field: str | None
) -> None:
    response = client.post("/api/v1/requests", data=data, content_type=content_type, headers=headers)
    assert_envelope(response, status, field)


def test_huge_body_is_refused_before_it_is_read(client: Any, db: Any, headers: dict[str, str], good_body: dict) -> None:
    body = changed(good_body, "details", "x" * 400_000)
    error = assert_envelope(client.post("/api/v1/requests", json=body, headers=headers), 413)
    assert error["code"] == "too_large"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=1000", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=lots", "per_page"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("status=lost", "status"),
        ("type=plumbing", "type"),
        ("urgency=9", "urgency"),
        ("urgency=high", "urgency"),
        ("overdue=maybe", "overdue"),
    ],
)
def test_bad_list_filters_are_refused(client: Any, db: Any, headers: dict[str, str], query: str, field: str) -> None:
    assert_envelope(client.get(f"/api/v1/requests?{query}", headers=headers), 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "finished"}, "to"),
        ({"to": 3}, "to"),
        ({"to": None}, "to"),
        ({}, "to"),
        ({"to": "triaged", "reason": ["a"]}, "reason"),
        ({"to": "cancelled", "reason": "<a href=x>why</a>"}, "reason"),
        ({"to": "triaged", "by": "me"}, "by"),
    ],
)
def test_bad_transitions_are_422(
    client: Any, db: Any, headers: dict[str, str], make_request: Any, body: dict, field: str
) -> None:
    req = make_request()
    response = client.post(f"/api/v1/requests/{req.reference}/transitions", json=body, headers=headers)
    error = assert_envelope(response, 422, field)
    assert error["code"] == "validation_failed"
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "new"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"urgency": "3"}, "urgency"),
        ({"urgency": 4}, "urgency"),
        ({"required_skills": ["flying"]}, "required_skills"),
        ({"required_skills": {"a": 1}}, "required_skills"),
        ({"due_by": "tomorrow"}, "due_by"),
        ({"min_dbs": "gold"}, "min_dbs"),
        ({"coordinator_notes": "x" * 2001}, "coordinator_notes"),
        ({"coordinator_notes": "<iframe>"}, "coordinator_notes"),
        ({"priority": 1}, "priority"),
    ],
)
def test_bad_triage_is_422(
    client: Any, db: Any, headers: dict[str, str], make_request: Any, body: dict, field: str
) -> None:
    req = make_request()
    response = client.post(f"/api/v1/requests/{req.reference}/triage", json=body, headers=headers)
    assert_envelope(response, 422, field)
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "new"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "volunteer_id"), ({"volunteer_id": "1"}, "volunteer_id"), ({"volunteer_id": 999_999}, "volunteer_id")],
)
def test_bad_assign_is_422(
    client: Any, db: Any, headers: dict[str, str], make_request: Any, body: dict, field: str
) -> None:
    req = make_request()
    client.post(f"/api/v1/requests/{req.reference}/triage", json={}, headers=headers)
    assert_envelope(client.post(f"/api/v1/requests/{req.reference}/assign", json=body, headers=headers), 422, field)


def test_unknown_reference_and_route_and_method_use_the_envelope(client: Any, db: Any, headers: dict[str, str]) -> None:
    assert assert_envelope(client.get("/api/v1/requests/CAN-AAAA-AAAA", headers=headers), 404)["code"] == "not_found"
    assert_envelope(client.get("/api/v1/requests/' OR 1=1 --", headers=headers), 404)
    assert_envelope(client.get("/api/v1/requests/" + "x" * 5000, headers=headers), 404)
    assert_envelope(client.get("/api/v1/nothing-here", headers=headers), 404)
    assert assert_envelope(client.delete("/api/v1/requests", headers=headers), 405)["code"] == "method_not_allowed"


def test_auth_errors_use_the_envelope(client: Any, db: Any, make_user: Any) -> None:
    anonymous = client.get("/api/v1/requests")
    assert assert_envelope(anonymous, 401)["code"] == "unauthorised"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert_envelope(client.get("/api/v1/requests", headers={"Authorization": "Bearer " + "x" * 5000}), 401)
    assert_envelope(client.get("/api/v1/requests", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    _, plain = users.issue_token(make_user("volunteer"), "test")
    unit_of_work.commit()
    response = client.get("/api/v1/residents", headers={"Authorization": f"Bearer {plain}"})
    assert assert_envelope(response, 403)["code"] == "forbidden"


def test_numbers_too_big_for_an_id_are_not_found_not_a_crash(
    client: Any, db: Any, headers: dict[str, str], good_body: dict[str, Any], make_request: Any
) -> None:
    huge = 2**63 + 5
    assert_envelope(client.get(f"/api/v1/residents/{huge}", headers=headers), 404)
    assert_envelope(client.patch(f"/api/v1/residents/{huge}", json={"town": "London"}, headers=headers), 404)
    assert_envelope(client.get(f"/api/v1/jobs/{huge}", headers=headers), 404)
    body = {key: value for key, value in good_body.items() if key != "resident"}
    assert_envelope(
        client.post("/api/v1/requests", json={**body, "resident_id": huge}, headers=headers), 422, "resident_id"
    )
    assert_envelope(
        client.post("/api/v1/requests", json={**body, "resident_id": 0}, headers=headers), 422, "resident_id"
    )
    req = make_request()
    client.post(f"/api/v1/requests/{req.reference}/triage", json={}, headers=headers)
    response = client.post(f"/api/v1/requests/{req.reference}/assign", json={"volunteer_id": huge}, headers=headers)
    assert_envelope(response, 422, "volunteer_id")
    assert_envelope(client.get(f"/api/v1/requests?page={huge}", headers=headers), 422, "page")


@pytest.mark.parametrize("url", ["/api/v1/requests?q=a%00b", "/api/v1/requests?ward=%07", "/api/v1/residents?q=%00"])
def test_control_characters_in_search_are_refused(client: Any, db: Any, headers: dict[str, str], url: str) -> None:
    assert_envelope(client.get(url, headers=headers), 422)
