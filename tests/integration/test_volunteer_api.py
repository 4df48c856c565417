"""The volunteer API: offers, accept, decline, tasks, idempotent progress, and what a volunteer may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.base import utcnow
from can_crm.models.enums import EventKind
from can_crm.models.request import HelpRequest, RequestEvent
from tests.integration.volunteer_helpers import offer, volunteer_with_account

JSON = {"Content-Type": "application/json"}


def _events(db: Any, request_id: int, kind: str) -> list[RequestEvent]:
    return list(
        db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id, RequestEvent.kind == kind))
    )


def test_offer_hides_the_resident_until_accepted_then_shows_the_address(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    offers = client.get("/api/v1/me/offers").get_json()["items"]
    assert [o["reference"] for o in offers] == [req.reference]
    text = str(offers)
    assert "Margaret" not in text and "Fulham Palace" not in text and "07911" not in text
    assert client.get("/api/v1/me/tasks").get_json()["items"] == []
    accepted = client.post(f"/api/v1/me/offers/{req.reference}/accept")
    assert accepted.status_code == 200, accepted.data
    assert accepted.get_json()["name"] == "Margaret Okafor"
    tasks = client.get("/api/v1/me/tasks").get_json()["items"]
    assert tasks[0]["address"].startswith("12 Fulham Palace Road") and tasks[0]["status"] == "accepted"


def test_progress_walks_the_state_machine_and_a_repeated_key_changes_nothing(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    client.post(f"/api/v1/me/offers/{req.reference}/accept")
    url = f"/api/v1/me/tasks/{req.reference}/progress"
    steps = [("on_my_way", "in_progress"), ("collected", "in_progress"), ("delivered", "delivered")]
    for n, (step, status) in enumerate(steps):
        answer = client.post(url, json={"step": step, "idempotency_key": f"key-{n}"})
        assert answer.status_code == 200, answer.data
        assert answer.get_json()["status"] == status
    again = client.post(url, json={"step": "delivered", "idempotency_key": "key-2"})
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    delivered = [e for e in _events(db, req.id, EventKind.TRANSITION) if e.to_status == "delivered"]
    assert len(delivered) == 1 and delivered[0].volunteer_id == volunteer.id
    progress = _events(db, req.id, EventKind.PROGRESS)
    assert [e.reason for e in progress] == ["Collected"] and progress[0].volunteer_id == volunteer.id


def test_could_not_deliver_needs_a_reason_and_returns_the_request_to_triage(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    client.post(f"/api/v1/me/offers/{req.reference}/accept")
    url = f"/api/v1/me/tasks/{req.reference}/progress"
    refused = client.post(url, json={"step": "could_not_deliver", "idempotency_key": "a"})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    bad = client.post(url, json={"step": "teleported", "idempotency_key": "b"})
    assert bad.status_code == 422
    assert client.post(url, json={"step": "delivered"}).status_code == 422
    ok = client.post(url, json={"step": "could_not_deliver", "reason": "nobody_home", "idempotency_key": "c"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "triaged"
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).volunteer_id is None
    assert "Nobody home" in _events(db, req.id, EventKind.PROGRESS)[0].reason


def test_decline_returns_the_request_to_triage_and_a_stale_update_is_refused(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    declined, taken_away = offer(make_request, volunteer), offer(make_request, volunteer)
    login(user)
    answer = client.post(f"/api/v1/me/offers/{declined.reference}/decline", json={"reason": "Away"})
    assert answer.status_code == 204
    db.session.expire_all()
    assert db.session.get(HelpRequest, declined.id).status == "triaged"
    client.post(f"/api/v1/me/offers/{taken_away.reference}/accept")
    # The coordinator gives the task back to triage (e.g. to reassign it) while the phone is offline.
    from can_crm.services.requests import lifecycle
    from can_crm.services.requests.events import Actor

    db.session.expire_all()
    lifecycle.transition(db.session.get(HelpRequest, taken_away.id), "triaged", Actor(role="coordinator"), "Reassign")
    unit_of_work.commit()
    stale = client.post(
        f"/api/v1/me/tasks/{taken_away.reference}/progress", json={"step": "delivered", "idempotency_key": "x"}
    )
    assert stale.status_code == 409 and "no longer yours" in stale.get_json()["error"]["message"]


def test_a_volunteer_never_sees_another_volunteers_offers_or_tasks(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, _ = volunteer_with_account(make_user, make_volunteer)
    _, other = volunteer_with_account(make_user, make_volunteer, name="Other Volunteer")
    theirs = offer(make_request, other)
    login(user)
    assert client.get("/api/v1/me/offers").get_json()["items"] == []
    assert client.post(f"/api/v1/me/offers/{theirs.reference}/accept").status_code == 404
    progress = {"step": "on_my_way", "idempotency_key": "k"}
    assert client.post(f"/api/v1/me/tasks/{theirs.reference}/progress", json=progress).status_code == 409
    assert client.get(f"/api/v1/requests/{theirs.reference}").status_code == 403


def test_address_and_phone_leave_the_volunteers_view_24_hours_after_delivery(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    client.post(f"/api/v1/me/offers/{req.reference}/accept")
    client.post(f"/api/v1/me/tasks/{req.reference}/progress", json={"step": "delivered", "idempotency_key": "d"})
    assert "Margaret" in client.get("/volunteer/tasks").get_data(as_text=True)
    db.session.expire_all()
    row = db.session.get(HelpRequest, req.id)
    row.delivered_at = utcnow() - timedelta(hours=24, minutes=1)
    unit_of_work.commit()
    assert client.get("/api/v1/me/tasks").get_json()["items"] == []
    page = client.get("/volunteer/tasks").get_data(as_text=True)
    assert "Margaret" not in page and "Fulham Palace" not in page


def test_unvetted_volunteers_are_never_offered_work(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    coordinator = make_user("coordinator")
    login(coordinator)
    created = client.post(
        "/api/v1/volunteers",
        json={"name": "New Person", "email": "new@example.org", "postcode": make_volunteer().home_postcode},
    )
    assert created.status_code == 201, created.data
    body = created.get_json()
    assert body["status"] == "pending"
    req = make_request()
    client.post(f"/api/v1/requests/{req.reference}/triage", json={})
    refused = client.post(f"/api/v1/requests/{req.reference}/assign", json={"volunteer_id": body["id"]})
    assert refused.status_code == 422
    vet = f"/api/v1/volunteers/{body['id']}/vetting"
    assert client.post(vet, json={"decision": "rejected"}).status_code == 422
    assert client.post(vet, json={"decision": "maybe"}).status_code == 422
    approved = client.post(vet, json={"decision": "approved", "identity_checked": True})
    assert approved.status_code == 200 and approved.get_json()["status"] == "active"
    assert client.post(f"/api/v1/requests/{req.reference}/assign", json={"volunteer_id": body["id"]}).status_code == 200
    listed = client.get("/api/v1/volunteers?email=new@example.org").get_json()["items"]
    assert [v["id"] for v in listed] == [body["id"]]
    patched = client.patch(f"/api/v1/volunteers/{body['id']}", json={"max_km": 7.5, "transport": "cycle"})
    assert patched.status_code == 200 and patched.get_json()["transport"] == "cycle"
    assert client.patch(f"/api/v1/volunteers/{body['id']}", json={"transport": "horse"}).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(RequestEvent)) > 0


def test_coordinator_api_links_an_existing_volunteer_account_by_email(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, login: Any, hf_postcode: str
) -> None:
    account = make_user("volunteer", email="linked@example.org")
    login(make_user("coordinator"))
    created = client.post(
        "/api/v1/volunteers", json={"name": "Linked", "email": "linked@example.org", "postcode": hf_postcode}
    )
    assert created.status_code == 201 and created.get_json()["user_id"] == account.id


def test_the_list_comes_a_page_at_a_time_with_links_that_keep_the_filter(
    client: Any, headers: dict[str, str], make_volunteer: Any
) -> None:
    names = [f"Volunteer {chr(65 + i // 26)}{chr(97 + i % 26)}" for i in range(27)]  # Aa .. Az, Ba: by name
    for name in reversed(names):
        make_volunteer(name=name)
    make_volunteer(name="Waiting Person", status="pending")
    first = client.get("/api/v1/volunteers?status=active", headers=headers).get_json()
    assert (first["total"], first["page"], first["per_page"]) == (27, 1, 25)
    assert [v["name"] for v in first["items"]] == names[:25]  # by name
    assert "status=active" in first["links"]["next"] and "page=2" in first["links"]["next"]
    second = client.get(first["links"]["next"], headers=headers).get_json()
    assert [v["name"] for v in second["items"]] == names[25:] and second["links"]["next"] is None
    everyone = client.get("/api/v1/volunteers?per_page=100", headers=headers).get_json()
    assert everyone["total"] == 28 and len(everyone["items"]) == 28
    # Past the end: an empty page (a client paging until nothing comes back stops), never the last page again.
    past = client.get("/api/v1/volunteers?page=9", headers=headers).get_json()
    assert past["items"] == [] and past["page"] == 9 and past["total"] == 28
    for bad, field in (
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("status=sleeping", "status"),
    ):
        refused = client.get(f"/api/v1/volunteers?{bad}", headers=headers)
        assert refused.status_code == 422, (bad, refused.get_json())
        assert field in refused.get_json()["error"]["fields"], (bad, refused.get_json())
