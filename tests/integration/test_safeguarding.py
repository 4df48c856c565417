"""Safeguarding: anyone who can see a request can flag a concern; only coordinators ever see it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import g
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.audit import AuditEntry
from can_crm.models.request import RequestEvent
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor

SECRET = "Bruises on her arms and she seemed frightened of her son"


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def as_(client: Any) -> Any:
    g.pop("_login_user", None)  # one app context for the whole test: do not reuse another browser's user
    return client


def test_coordinator_flags_a_concern_which_goes_to_the_queue_and_is_audited(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    coordinator = make_user("coordinator")
    req = make_request()
    login(coordinator)
    response = client.post(f"/coordinator/requests/{req.reference}/concern", data={"details": SECRET})
    assert response.status_code == 302
    concern = db.session.scalar(select(SafeguardingConcern))
    assert concern.status == "open" and concern.raised_by_id == coordinator.id and concern.request_id == req.id
    event = db.session.scalar(select(RequestEvent).where(RequestEvent.kind == "safeguarding"))
    assert event is not None and SECRET not in (event.reason or "")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "raise_concern")) is not None
    queue = text(client.get("/coordinator/safeguarding"))
    assert SECRET in queue and req.reference in queue


def test_partner_can_flag_but_never_sees_details(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    partner = make_user("partner")
    req = make_request(actor=Actor(role="partner", user_id=partner.id))
    login(partner)
    response = client.post(f"/coordinator/requests/{req.reference}/concern", data={"details": SECRET})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SafeguardingConcern)) == 1
    page = text(client.get(f"/partner/requests/{req.reference}"))
    assert SECRET not in page and "Safeguarding concern raised" in page
    assert client.get("/coordinator/safeguarding").status_code == 403


def test_volunteer_can_flag_a_concern_on_their_own_task_only(
    client: Any, make_user: Any, login: Any, make_request: Any, hf_postcode: str, db: Any
) -> None:
    from can_crm.models.enums import VolunteerStatus
    from can_crm.services.volunteers import profiles as volunteers

    user = make_user("volunteer")
    volunteer = volunteers.create_volunteer(
        {"name": "Vic Volunteer", "home_postcode": hf_postcode, "max_km": "3", "capacity": "1", "active": True},
        user_id=user.id,
        status=VolunteerStatus.ACTIVE,
    )
    unit_of_work.commit()
    mine, other = make_request(resident={"name": "Mine Person"}), make_request(resident={"name": "Other Person"})
    requests.triage(mine, {}, Actor(role="coordinator"))
    requests.assign_volunteer(mine, volunteer.id, Actor(role="coordinator"))
    unit_of_work.commit()
    login(user)
    assert client.get(f"/coordinator/requests/{mine.reference}/concern").status_code == 200
    response = client.post(f"/coordinator/requests/{mine.reference}/concern", data={"details": SECRET})
    assert response.status_code == 200 and "Concern sent" in text(response)
    assert client.post(f"/coordinator/requests/{other.reference}/concern", data={"details": SECRET}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(SafeguardingConcern)) == 1


def test_admin_cannot_flag_on_requests_they_cannot_see(
    client: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    req = make_request()
    login(make_user("admin"))
    assert client.post(f"/coordinator/requests/{req.reference}/concern", data={"details": SECRET}).status_code == 404


def test_anonymous_users_cannot_flag(client: Any, make_request: Any) -> None:
    req = make_request()
    response = client.post(f"/coordinator/requests/{req.reference}/concern", data={"details": SECRET})
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    "details, message",
    [
        ("", "Enter what you are worried about"),
        ("x" * 2001, "2000 characters or fewer"),
        ("<script>x</script>", "must not contain HTML"),
    ],
)
@pytest.mark.parametrize("role", ["coordinator", "partner"])
def test_bad_concern_is_refused_with_a_message(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any, details: str, message: str, role: str
) -> None:
    user = make_user(role)
    req = make_request(actor=Actor(role=role, user_id=user.id))
    login(user)
    response = client.post(f"/coordinator/requests/{req.reference}/concern", data={"details": details})
    assert response.status_code == 400
    assert message in text(response) and "govuk-error-summary" in text(response)
    assert db.session.scalar(select(func.count()).select_from(SafeguardingConcern)) == 0


@pytest.mark.parametrize("role", ["partner", "councillor", "volunteer", "admin"])
def test_safeguarding_queue_is_for_coordinators_only(client: Any, make_user: Any, login: Any, role: str) -> None:
    login(make_user(role))
    assert client.get("/coordinator/safeguarding").status_code == 403


def test_queue_lists_open_first_oldest_first_and_closes_with_an_outcome(
    app: Any, client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    coordinator = make_user("coordinator")
    first, second, third = (make_request(resident={"name": n}) for n in ("Alpha Person", "Beta Person", "Gamma Person"))
    login(coordinator)
    for req, words in ((first, "First worry"), (second, "Second worry"), (third, "Third worry")):
        assert (
            as_(client).post(f"/coordinator/requests/{req.reference}/concern", data={"details": words}).status_code
            == 302
        )
    first_id = db.session.scalar(select(SafeguardingConcern.id).where(SafeguardingConcern.details == "First worry"))
    response = as_(client).post(f"/coordinator/safeguarding/{first_id}/close", data={"outcome": ""})
    assert response.status_code == 400 and "Enter the outcome" in text(response)
    response = as_(client).post(
        f"/coordinator/safeguarding/{first_id}/close", data={"outcome": "Referred to adult social care"}
    )
    assert response.status_code == 302
    page = text(as_(client).get("/coordinator/safeguarding"))
    assert page.index("Second worry") < page.index("Third worry") < page.index("First worry")
    assert "Referred to adult social care" in page
    assert as_(client).post(f"/coordinator/safeguarding/{first_id}/close", data={"outcome": "Again"}).status_code == 409


def test_request_page_warns_coordinators_of_an_open_concern(
    client: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    req = make_request()
    login(make_user("coordinator"))
    client.post(f"/coordinator/requests/{req.reference}/concern", data={"details": SECRET})
    page = text(client.get(f"/coordinator/requests/{req.reference}"))
    assert "open safeguarding concern" in page and SECRET in page
