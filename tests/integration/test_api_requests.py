"""/api/v1/requests and /api/v1/jobs: raise, list, read, lifecycle, triage, assign, roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from can_crm import unit_of_work
from can_crm.models.job import Job
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.services.accounts import users
from can_crm.services.common import times
from can_crm.services.requests.events import Actor

REFERENCE = re.compile(r"^CAN-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$")


@pytest.fixture
def bearer(make_user: Any) -> Any:
    """A user of `role` and the Authorization header of a token issued to them."""

    def make(role: str = "coordinator", **kwargs: Any) -> tuple[Any, dict[str, str]]:
        user = make_user(role, **kwargs)
        _, plain = users.issue_token(user, "test")
        unit_of_work.commit()
        return user, {"Authorization": f"Bearer {plain}"}

    return make


def new_request_body(postcode: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resident": {
            "name": "Margaret Okafor",
            "address": "12 Fulham Palace Road",
            "postcode": postcode,
            "phone": "07911 123456",
            "email": "margaret@example.com",
            "preferred_channel": "phone",
            "consent_given": True,
        },
        "type": "shopping",
        "urgency": 2,
        "details": "Weekly shop for two",
        "due_by": (times.today() + timedelta(days=3)).isoformat(),
    }
    body.update(overrides)
    return body


def count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_coordinator_token_creates_request_with_reference_and_location(
    client: Any, db: Any, bearer: Any, hf_postcode: str
) -> None:
    _, headers = bearer("coordinator")
    response = client.post("/api/v1/requests", json=new_request_body(hf_postcode), headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert REFERENCE.match(body["reference"])
    assert body["status"] == "new" and body["type"] == "shopping" and body["urgency"] == 2
    assert body["channel"] == "api"
    assert response.headers["Location"].endswith(f"/api/v1/requests/{body['reference']}")
    assert body["resident"]["address_line1"] == "12 Fulham Palace Road"
    assert body["resident"]["phone"] == "+447911123456"
    kinds = [(e["kind"], e["from"], e["to"]) for e in body["events"] if e["kind"] != "notification"]
    assert kinds == [("created", None, "new")]
    assert "triaged" in body["allowed_transitions"]
    assert client.get(response.headers["Location"], headers=headers).status_code == 200


def test_partner_raises_on_behalf_and_sees_only_name_and_postcode(
    client: Any, db: Any, bearer: Any, hf_postcode: str
) -> None:
    _, headers = bearer("partner", organisation="Age UK")
    response = client.post("/api/v1/requests", json=new_request_body(hf_postcode), headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["channel"] == "partner"
    assert body["resident"] == {"name": "Margaret Okafor", "postcode": hf_postcode, "location_known": True}
    assert "coordinator_notes" not in body and "volunteer_id" not in body
    listed = client.get("/api/v1/requests", headers=headers).get_json()
    assert [item["resident"] for item in listed["items"]] == [
        {"name": "Margaret Okafor", "postcode": hf_postcode, "location_known": True}
    ]


def test_councillor_request_is_recorded_as_councillor_channel(
    client: Any, db: Any, bearer: Any, hf_postcode: str
) -> None:
    _, headers = bearer("councillor")
    response = client.post("/api/v1/requests", json=new_request_body(hf_postcode), headers=headers)
    assert response.status_code == 201 and response.get_json()["channel"] == "councillor"


def test_create_for_known_resident_and_with_address_line1(
    client: Any, db: Any, bearer: Any, hf_postcode: str, make_request: Any
) -> None:
    _, headers = bearer("coordinator")
    existing = make_request()
    body = new_request_body(hf_postcode, type="prescription")
    del body["resident"]
    body["resident_id"] = existing.resident_id
    response = client.post("/api/v1/requests", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["resident"]["id"] == existing.resident_id

    long_form = new_request_body(hf_postcode)
    long_form["resident"].pop("address")
    long_form["resident"].update(address_line1="3 Lillie Road", address_line2="Flat 2", town="London")
    response = client.post("/api/v1/requests", json=long_form, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["resident"]["address_line2"] == "Flat 2"


def test_partner_cannot_raise_for_a_resident_they_have_never_helped(
    client: Any, db: Any, bearer: Any, make_request: Any, hf_postcode: str
) -> None:
    someone = make_request()
    _, headers = bearer("partner")
    body = new_request_body(hf_postcode)
    del body["resident"]
    body["resident_id"] = someone.resident_id
    response = client.post("/api/v1/requests", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"resident_id": "No resident with that id"}
    assert count(db, HelpRequest) == 1


def test_list_filters_and_paginates_with_links(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer("coordinator")
    for _ in range(5):
        make_request(request={"type": "shopping"})
    make_request(request={"type": "food_parcel", "urgency": 3})

    first = client.get("/api/v1/requests?type=shopping&per_page=2", headers=headers)
    assert first.status_code == 200, first.get_json()
    page = first.get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (1, 2, 5, 2)
    assert all(item["type"] == "shopping" for item in page["items"])
    links = page["links"]
    assert links["prev"] is None and "page=2" in links["next"] and "page=3" in links["last"]
    assert all("type=shopping" in links[k] and "per_page=2" in links[k] for k in ("self", "next", "first", "last"))

    seen = [item["reference"] for item in page["items"]]
    url = links["next"]
    while url:
        page = client.get(url, headers=headers).get_json()
        seen += [item["reference"] for item in page["items"]]
        url = page["links"]["next"]
    assert len(seen) == len(set(seen)) == 5
    assert page["page"] == 3 and page["links"]["prev"] is not None

    urgent = client.get("/api/v1/requests?urgency=3", headers=headers).get_json()
    assert [item["type"] for item in urgent["items"]] == ["food_parcel"]
    assert client.get("/api/v1/requests?status=triaged", headers=headers).get_json()["total"] == 0


def test_list_overdue_and_ward_filters(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer("coordinator")
    late, on_time = make_request(), make_request()
    db.session.execute(
        update(HelpRequest).where(HelpRequest.id == late.id).values(sla_due_at=datetime.now(UTC) - timedelta(hours=1))
    )
    unit_of_work.commit()
    overdue = client.get("/api/v1/requests?overdue=true", headers=headers).get_json()
    assert [item["reference"] for item in overdue["items"]] == [late.reference]
    assert overdue["items"][0]["overdue"] is True
    assert "overdue=true" in overdue["links"]["self"]

    ward = db.session.get(HelpRequest, on_time.id)
    from can_crm.models.resident import Resident

    ward_code = db.session.get(Resident, ward.resident_id).ward_code
    assert ward_code, "the test postcode should geocode to a ward"
    in_ward = client.get(f"/api/v1/requests?ward={ward_code}", headers=headers).get_json()
    assert in_ward["total"] == 2
    assert client.get("/api/v1/requests?ward=E05999999", headers=headers).get_json()["total"] == 0


def test_partner_lists_only_requests_they_raised(
    client: Any, db: Any, bearer: Any, make_request: Any, hf_postcode: str
) -> None:
    partner, headers = bearer("partner")
    make_request()  # raised by someone else
    mine = make_request(actor=Actor(role="partner", user_id=partner.id))
    listed = client.get("/api/v1/requests", headers=headers).get_json()
    assert [item["reference"] for item in listed["items"]] == [mine.reference]
    assert listed["total"] == 1


def test_read_shows_event_history_in_order(
    client: Any, db: Any, bearer: Any, make_request: Any, make_volunteer: Any
) -> None:
    _, headers = bearer("coordinator")
    req = make_request()
    volunteer = make_volunteer()
    ref = req.reference
    assert client.post(f"/api/v1/requests/{ref}/triage", json={"urgency": 3}, headers=headers).status_code == 200
    response = client.post(f"/api/v1/requests/{ref}/assign", json={"volunteer_id": volunteer.id}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "matched" and response.get_json()["volunteer_id"] == volunteer.id

    body = client.get(f"/api/v1/requests/{ref.lower()}", headers=headers).get_json()
    assert body["reference"] == ref and body["urgency"] == 3
    history = [(e["kind"], e["from"], e["to"], e["actor_role"]) for e in body["events"]]
    assert history == [
        ("created", None, "new", "coordinator"),
        ("transition", "new", "triaged", "coordinator"),
        ("triage", None, None, "coordinator"),
        ("transition", "triaged", "matched", "coordinator"),
    ]
    assert all(e["at"] for e in body["events"])


def test_transition_moves_request_and_records_reason(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer("coordinator")
    req = make_request()
    response = client.post(
        f"/api/v1/requests/{req.reference}/transitions",
        json={"to": "cancelled", "reason": "Family helped"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "cancelled" and body["allowed_transitions"] == []
    assert body["events"][-1] == {**body["events"][-1], "from": "new", "to": "cancelled", "reason": "Family helped"}


def test_refused_transition_is_409_and_changes_nothing(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer("coordinator")
    req = make_request()
    events_before, version_before = count(db, RequestEvent), req.version
    response = client.post(f"/api/v1/requests/{req.reference}/transitions", json={"to": "delivered"}, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert "cannot move from new to delivered" in error["message"]
    db.session.expire_all()
    fresh = db.session.get(HelpRequest, req.id)
    assert (fresh.status, fresh.version) == ("new", version_before)
    assert count(db, RequestEvent) == events_before


def test_transition_refused_for_role_and_for_missing_reason(
    client: Any, db: Any, bearer: Any, make_request: Any
) -> None:
    partner, headers = bearer("partner")
    req = make_request(actor=Actor(role="partner", user_id=partner.id))
    url = f"/api/v1/requests/{req.reference}/transitions"
    refused = client.post(url, json={"to": "triaged"}, headers=headers)
    assert refused.status_code == 409 and "Your role (partner)" in refused.get_json()["error"]["message"]
    no_reason = client.post(url, json={"to": "cancelled"}, headers=headers)
    assert no_reason.status_code == 409 and no_reason.get_json()["error"]["fields"] == {
        "reason": "Give a reason for moving the request to cancelled"
    }
    assert (
        client.post(url, json={"to": "cancelled", "reason": "Resident in hospital"}, headers=headers).status_code == 200
    )


def test_partner_sees_only_their_own_reasons_in_the_history(
    client: Any, db: Any, bearer: Any, make_request: Any
) -> None:
    partner, partner_headers = bearer("partner")
    _, coordinator_headers = bearer("coordinator")
    req = make_request(actor=Actor(role="partner", user_id=partner.id))
    url = f"/api/v1/requests/{req.reference}"
    escalated = client.post(
        f"{url}/transitions",
        json={"to": "escalated", "reason": "Safeguarding: concern about a carer"},
        headers=coordinator_headers,
    )
    assert escalated.status_code == 200
    seen_by_partner = client.get(url, headers=partner_headers).get_json()["events"]
    assert [(e["to"], e["reason"]) for e in seen_by_partner] == [("new", "Received by phone"), ("escalated", None)]
    seen_by_coordinator = client.get(url, headers=coordinator_headers).get_json()["events"]
    assert seen_by_coordinator[-1]["reason"] == "Safeguarding: concern about a carer"


def test_triage_twice_is_a_conflict(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    _, headers = bearer("coordinator")
    req = make_request()
    url = f"/api/v1/requests/{req.reference}"
    client.post(f"{url}/transitions", json={"to": "cancelled", "reason": "Duplicate"}, headers=headers)
    response = client.post(f"{url}/triage", json={"urgency": 1}, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "transition_not_allowed"


def test_requests_need_authentication(client: Any, db: Any, make_request: Any, hf_postcode: str) -> None:
    req = make_request()
    for method, url in (
        ("get", "/api/v1/requests"),
        ("post", "/api/v1/requests"),
        ("get", f"/api/v1/requests/{req.reference}"),
        ("post", f"/api/v1/requests/{req.reference}/transitions"),
    ):
        response = getattr(client, method)(url, json=new_request_body(hf_postcode))
        assert response.status_code == 401, url
        assert response.get_json()["error"]["code"] == "unauthorised"
    bad_token = client.get("/api/v1/requests", headers={"Authorization": "Bearer can_not-a-real-token"})
    assert bad_token.status_code == 401


def test_revoked_token_is_refused(client: Any, db: Any, make_user: Any) -> None:
    user = make_user("coordinator")
    token, plain = users.issue_token(user)
    unit_of_work.commit()
    users.revoke_token(token.id)
    unit_of_work.commit()
    assert client.get("/api/v1/requests", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


@pytest.mark.parametrize("role", ["volunteer", "admin"])
def test_roles_without_request_access_get_403(client: Any, db: Any, bearer: Any, role: str, hf_postcode: str) -> None:
    _, headers = bearer(role)
    assert client.get("/api/v1/requests", headers=headers).status_code == 403
    response = client.post("/api/v1/requests", json=new_request_body(hf_postcode), headers=headers)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["partner", "councillor"])
def test_only_coordinators_triage_and_assign(client: Any, db: Any, bearer: Any, make_request: Any, role: str) -> None:
    user, headers = bearer(role)
    req = make_request(actor=Actor(role=role, user_id=user.id))
    assert client.post(f"/api/v1/requests/{req.reference}/triage", json={}, headers=headers).status_code == 403
    response = client.post(f"/api/v1/requests/{req.reference}/assign", json={"volunteer_id": 1}, headers=headers)
    assert response.status_code == 403


def test_partner_gets_404_for_another_partners_request(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    other, _ = bearer("partner")
    theirs = make_request(actor=Actor(role="partner", user_id=other.id))
    _, headers = bearer("partner")
    for response in (
        client.get(f"/api/v1/requests/{theirs.reference}", headers=headers),
        client.post(
            f"/api/v1/requests/{theirs.reference}/transitions", json={"to": "cancelled", "reason": "x"}, headers=headers
        ),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    db.session.expire_all()
    assert db.session.get(HelpRequest, theirs.id).status == "new"


def test_councillor_sees_requests_in_their_ward(client: Any, db: Any, bearer: Any, make_request: Any) -> None:
    req = make_request()
    from can_crm.models.resident import Resident

    ward = db.session.get(Resident, req.resident_id).ward_code
    _, in_ward = bearer("councillor", ward_code=ward)
    _, elsewhere = bearer("councillor", ward_code="E05000000")
    assert client.get(f"/api/v1/requests/{req.reference}", headers=in_ward).status_code == 200
    assert client.get(f"/api/v1/requests/{req.reference}", headers=elsewhere).status_code == 404


def test_session_cookie_works_and_writes_need_csrf_header(
    app: Any, client: Any, db: Any, make_user: Any, login: Any, bearer: Any, hf_postcode: str, monkeypatch: Any
) -> None:
    login(make_user("coordinator"))
    assert client.get("/api/v1/requests").status_code == 200
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post("/api/v1/requests", json=new_request_body(hf_postcode))
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"

    with client.session_transaction() as session:
        session["csrf_token"] = "0123456789abcdef0123456789abcdef01234567"
    signed = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(
        "0123456789abcdef0123456789abcdef01234567"
    )
    accepted = client.post("/api/v1/requests", json=new_request_body(hf_postcode), headers={"X-CSRFToken": signed})
    assert accepted.status_code == 201, accepted.get_json()

    _, headers = bearer("coordinator")
    other = app.test_client()
    assert other.post("/api/v1/requests", json=new_request_body(hf_postcode), headers=headers).status_code == 201


def test_job_progress_is_visible_to_its_starter_only(client: Any, db: Any, bearer: Any) -> None:
    starter, headers = bearer("coordinator")
    _, other_headers = bearer("coordinator")
    job = Job(
        name="match",
        args={"request_id": 1},
        created_by_id=starter.id,
        state="running",
        progress=40,
        progress_message="Scoring volunteers",
    )
    db.session.add(job)
    unit_of_work.commit()
    response = client.get(f"/api/v1/jobs/{job.id}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["state"], body["progress"], body["message"], body["result"]) == (
        "running",
        40,
        "Scoring volunteers",
        None,
    )
    assert client.get(f"/api/v1/jobs/{job.id}", headers=other_headers).status_code == 404
    assert client.get("/api/v1/jobs/999999", headers=headers).status_code == 404
