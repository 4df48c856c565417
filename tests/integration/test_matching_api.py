"""/api/v1/matching: start a run, read proposals, decide; the error envelope on bad input; coordinators only."""

from __future__ import annotations

from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.models.matching import MatchProposal
from can_crm.models.request import HelpRequest
from can_crm.services.accounts import users
from can_crm.services.requests import lifecycle
from tests.integration.matching_helpers import COORD, proposals, run_matching, triaged, volunteer


@pytest.fixture
def bearer(make_user: Any) -> Any:
    def make(role: str = "coordinator") -> dict[str, str]:
        user = make_user(role)
        _, plain = users.issue_token(user, "test")
        unit_of_work.commit()
        return {"Authorization": f"Bearer {plain}"}

    return make


def reload(db: Any, model: Any, id_: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, id_)


def error(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def test_start_run_answers_202_then_the_run_lists_proposals(
    app: Any, client: Any, db: Any, bearer: Any, make_request: Any, make_volunteer: Any
) -> None:
    headers = bearer()
    v = volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    triaged(make_request, 0.0, required_skills=["language_somali"])
    response = client.post("/api/v1/matching/runs", json={"request_types": ["shopping"]}, headers=headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert set(body) == {"run_id", "job_id", "links"}
    app.extensions["can_queue"].wait()
    assert client.get(f"/api/v1/jobs/{body['job_id']}", headers=headers).get_json()["state"] == "succeeded"
    run = client.get(f"/api/v1/matching/runs/{body['run_id']}", headers=headers)
    assert run.status_code == 200
    data = run.get_json()
    assert data["status"] == "proposed" and data["request_types"] == ["shopping"]
    by_ref = {p["reference"]: p for p in data["proposals"]}
    assert by_ref[req.reference]["volunteer_id"] == v.id and by_ref[req.reference]["actionable"] is True
    unmatched = [p for p in data["proposals"] if p["volunteer_id"] is None]
    assert unmatched[0]["unmatched_reason"] == "no_volunteer_with_skills" and unmatched[0]["explanation"]


def test_empty_body_runs_every_type(app: Any, client: Any, db: Any, bearer: Any) -> None:
    headers = bearer()
    response = client.post("/api/v1/matching/runs", json={}, headers=headers)
    assert response.status_code == 202
    app.extensions["can_queue"].wait()  # never leave a job running into the next test's database
    run = client.get(f"/api/v1/matching/runs/{response.get_json()['run_id']}", headers=headers).get_json()
    assert (run["status"], run["request_types"]) == ("proposed", [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"request_types": ["groceries"]}, "request_types"),
        ({"request_types": "shopping"}, "request_types"),
        ({"request_types": [1]}, "request_types.0"),
        ({"types": []}, "types"),
    ],
)
def test_start_run_bad_input_is_422(client: Any, db: Any, bearer: Any, body: dict[str, Any], field: str) -> None:
    response = client.post("/api/v1/matching/runs", json=body, headers=bearer())
    assert response.status_code == 422
    assert field in error(response)["fields"]


def _proposal(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> tuple[int, Any, Any]:
    v = volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    return proposals(run_matching(app, db))[req.id].id, req, v


def test_approve_decision(app: Any, client: Any, db: Any, bearer: Any, make_request: Any, make_volunteer: Any) -> None:
    pid, req, v = _proposal(app, db, make_request, make_volunteer)
    response = client.post(f"/api/v1/matching/proposals/{pid}/decision", json={"decision": "approve"}, headers=bearer())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decision"] == "approved"
    req = reload(db, HelpRequest, req.id)
    assert (req.status, req.volunteer_id) == ("matched", v.id)


def test_reject_and_override_decisions(
    app: Any, client: Any, db: Any, bearer: Any, make_request: Any, make_volunteer: Any
) -> None:
    headers = bearer()
    pid, req, _ = _proposal(app, db, make_request, make_volunteer)
    response = client.post(
        f"/api/v1/matching/proposals/{pid}/decision",
        json={"decision": "reject", "note": "Resident is away"},
        headers=headers,
    )
    assert response.status_code == 200 and response.get_json()["decision"] == "rejected"
    other = volunteer(make_volunteer, 1.0, name="Other Person")
    run = run_matching(app, db)
    pid2 = proposals(run)[req.id].id
    response = client.post(
        f"/api/v1/matching/proposals/{pid2}/decision",
        json={"decision": "override", "volunteer_id": other.id, "note": "Has a car"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["override_volunteer_id"] == other.id
    assert reload(db, HelpRequest, req.id).volunteer_id == other.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "maybe"}, "decision"),
        ({}, "decision"),
        ({"decision": "override", "note": "x"}, "volunteer_id"),
        ({"decision": "override", "volunteer_id": 999999, "note": "x"}, "volunteer_id"),
        ({"decision": "override", "volunteer_id": "7", "note": "x"}, "volunteer_id"),
        ({"decision": "override", "volunteer_id": 0, "note": "x"}, "volunteer_id"),
        ({"decision": "override", "volunteer_id": "OTHER"}, "note"),
        ({"decision": "override", "volunteer_id": "OTHER", "note": ""}, "note"),
        ({"decision": "approve", "note": 5}, "note"),
        ({"decision": "approve", "extra": 1}, "extra"),
    ],
)
def test_bad_decisions_are_422_and_change_nothing(
    app: Any,
    client: Any,
    db: Any,
    bearer: Any,
    make_request: Any,
    make_volunteer: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    pid, req, _ = _proposal(app, db, make_request, make_volunteer)
    if body.get("volunteer_id") == "OTHER":
        body = {**body, "volunteer_id": volunteer(make_volunteer, 1.0, name="Other Person").id}
    response = client.post(f"/api/v1/matching/proposals/{pid}/decision", json=body, headers=bearer())
    assert response.status_code == 422, response.get_json()
    assert field in error(response).get("fields", {}), response.get_json()
    assert reload(db, MatchProposal, pid).decision == "pending"
    assert db.session.get(HelpRequest, req.id).status == "triaged"


def test_stale_proposal_is_409_and_changes_nothing(
    app: Any, client: Any, db: Any, bearer: Any, make_request: Any, make_volunteer: Any
) -> None:
    pid, req, _ = _proposal(app, db, make_request, make_volunteer)
    lifecycle.transition(db.session.get(HelpRequest, req.id), "cancelled", COORD, "Not needed")
    unit_of_work.commit()
    response = client.post(f"/api/v1/matching/proposals/{pid}/decision", json={"decision": "approve"}, headers=bearer())
    assert response.status_code == 409
    assert error(response)["code"] == "conflict" and "out of date" in error(response)["message"]
    assert reload(db, MatchProposal, pid).decision == "pending"


def test_missing_run_and_proposal_are_404(client: Any, db: Any, bearer: Any) -> None:
    headers = bearer()
    for url in ("/api/v1/matching/runs/999", "/api/v1/matching/runs/99999999999"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and error(response)["code"] == "not_found"
    response = client.post("/api/v1/matching/proposals/999/decision", json={"decision": "approve"}, headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["admin", "partner", "councillor", "volunteer"])
def test_matching_api_is_for_coordinators_only(client: Any, db: Any, bearer: Any, role: str) -> None:
    headers = bearer(role)
    assert client.post("/api/v1/matching/runs", json={}, headers=headers).status_code == 403
    assert client.get("/api/v1/matching/runs/1", headers=headers).status_code == 403
    response = client.post("/api/v1/matching/proposals/1/decision", json={"decision": "approve"}, headers=headers)
    assert response.status_code == 403


def test_anonymous_caller_gets_401(client: Any, db: Any) -> None:
    assert client.post("/api/v1/matching/runs", json={}).status_code == 401
    assert error(client.get("/api/v1/matching/runs/1"))["code"] == "unauthorised"


def test_openapi_documents_the_matching_endpoints(client: Any, db: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {
        "/api/v1/matching/runs",
        "/api/v1/matching/runs/{run_id}",
        "/api/v1/matching/proposals/{proposal_id}/decision",
    } <= set(paths)
