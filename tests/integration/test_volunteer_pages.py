"""Volunteer pages: sign-up, profile, offers, tasks, nearby; create-user; lone working."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.enums import EventKind
from can_crm.models.request import RequestEvent
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer, VolunteerProgress
from can_crm.services.volunteers import tasks
from tests.conftest import PASSWORD
from tests.integration.test_queue_queries import count_queries
from tests.integration.volunteer_helpers import offer, volunteer_with_account


def _sign_up_form(postcode: str, **overrides: str) -> dict[str, Any]:
    return {
        "name": "Priya Helper",
        "email": "priya@example.org",
        "password": PASSWORD,
        "phone": "07911 123458",
        "home_postcode": postcode,
        "max_km": "3",
        "transport": "cycle",
        "capacity": "2",
        "skills": ["shopping"],
        "avail_sat": ["morning"],
        **overrides,
    }


def test_sign_up_creates_an_account_waiting_for_vetting(client: Any, db: Any, hf_postcode: str) -> None:
    response = client.post("/volunteer/sign-up", data=_sign_up_form(hf_postcode))
    assert response.status_code == 302, response.data[:2000]
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.email == "priya@example.org"))
    assert volunteer.status == "pending" and volunteer.transport == "cycle" and volunteer.lat is not None
    assert volunteer.availability == {"sat": ["morning"]}
    page = client.get("/volunteer/profile").get_data(as_text=True)
    assert "check your details" in page
    assert "nothing will be offered to you until then" in client.get("/volunteer/").get_data(as_text=True)


def test_sign_up_shows_every_mistake_next_to_its_field(client: Any, db: Any) -> None:
    response = client.post(
        "/volunteer/sign-up", data=_sign_up_form("ZZ1 1ZZ", email="not-an-email", password="short", max_km="lots")
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("govuk-error-message") >= 3
    assert db.session.scalar(select(User).where(User.email == "not-an-email")) is None


def test_create_user_makes_an_empty_volunteer_profile_waiting_for_vetting(app: Any, db: Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "cli-vol@example.org", "--role", "volunteer"], env={"CAN_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "cli-vol@example.org"))
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    assert volunteer.status == "pending" and volunteer.home_postcode == ""


def test_volunteer_pages_render_and_the_task_page_has_the_address_after_accepting(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    offers = client.get("/volunteer/").get_data(as_text=True)
    assert req.reference in offers and "Margaret" not in offers and "Fulham Palace" not in offers
    for url in ("/volunteer/tasks", "/volunteer/nearby", "/volunteer/profile", "/volunteer/sign-up"):
        assert client.get(url).status_code == 200, url
    assert client.post(f"/volunteer/offers/{req.reference}/accept").status_code == 302
    page = client.get("/volunteer/tasks").get_data(as_text=True)
    assert "Margaret Okafor" in page and 'href="tel:+447911123456"' in page and "safeguarding" in page
    assert "Call 07911 123456" in page  # the number as people dial it; the link carries it whole
    assert client.get("/volunteer/manifest.webmanifest").get_json()["start_url"] == "/volunteer/tasks"
    assert client.get("/volunteer/sw.js").status_code == 200


def test_offers_page_reads_the_account_with_its_profile_and_then_the_offers(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    reference = offer(make_request, volunteer).reference
    login(user)
    db.session.expunge_all()  # as in a new request of a running server: nothing loaded yet
    with count_queries(db.engine) as statements:
        page = client.get("/volunteer/").get_data(as_text=True)
    assert reference in page
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The account and its volunteer profile in one statement (the profile was a query of its own), then the offers.
    assert len(reads) == 2, reads
    assert "FROM users LEFT OUTER JOIN volunteers" in reads[0], reads[0]


def test_a_coordinators_page_reads_the_account_without_joining_volunteer_profiles(
    client: Any, db: Any, make_user: Any, login: Any
) -> None:
    """Staff have no volunteer profile: the join that serves the volunteer's pages was a third of the account's
    load on every coordinator page."""
    login(make_user("coordinator"))
    db.session.expunge_all()
    with count_queries(db.engine) as statements:
        assert client.get("/coordinator/").status_code == 200
    accounts = [s for s in statements if "FROM users" in s and "WHERE users.id" in s]
    assert len(accounts) == 1, statements
    assert "volunteers" not in accounts[0], accounts[0]


def test_a_form_posted_twice_with_its_key_records_one_step(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    client.post(f"/volunteer/offers/{req.reference}/accept")
    form = {"step": "delivered", "idempotency_key": "form-key-1"}
    assert client.post(f"/volunteer/tasks/{req.reference}/progress", data=form).status_code == 302
    assert client.post(f"/volunteer/tasks/{req.reference}/progress", data=form).status_code == 302
    delivered = db.session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == req.id, RequestEvent.to_status == "delivered")
    ).all()
    assert len(delivered) == 1


def test_an_overrunning_visit_alerts_once_and_asks_the_volunteer_if_they_are_ok(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    req = offer(make_request, volunteer)
    login(user)
    client.post(f"/volunteer/offers/{req.reference}/accept")
    client.post(f"/api/v1/me/tasks/{req.reference}/progress", json={"step": "on_my_way", "idempotency_key": "w"})
    visit = db.session.scalar(select(VolunteerProgress))
    visit.created_at = visit.created_at - timedelta(hours=3)
    unit_of_work.commit()
    assert tasks.alert_overdue() == 1
    assert tasks.alert_overdue() == 0
    unit_of_work.commit()
    alerts = db.session.scalars(select(RequestEvent).where(RequestEvent.kind == EventKind.LONE_WORKING)).all()
    assert len(alerts) == 1 and alerts[0].volunteer_id == volunteer.id
    assert "Are you OK?" in client.get("/volunteer/tasks").get_data(as_text=True)
    assert client.post(f"/volunteer/tasks/{req.reference}/ok").status_code == 302
    assert "Are you OK?" not in client.get("/volunteer/tasks").get_data(as_text=True)


def test_coordinator_vets_on_the_page_and_opens_types_for_self_service(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, login: Any
) -> None:
    volunteer = make_volunteer(status="pending", name="Waiting Person")
    login(make_user("coordinator"))
    listing = client.get("/coordinator/volunteers").get_data(as_text=True)
    assert "Waiting for vetting" in listing
    url = f"/coordinator/volunteers/{volunteer.id}/vetting"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"decision": "approved"})
    assert refused.status_code == 400 and "identity" in refused.get_data(as_text=True)
    assert (
        client.post(url, data={"decision": "approved", "identity_checked": "y", "dbs_level": "basic"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id).status == "active"
    assert client.post("/coordinator/volunteers/self-service", data={"types": ["shopping"]}).status_code == 302
    assert "Shopping" in client.get("/coordinator/volunteers").get_data(as_text=True)
