"""Partner organisations and councillors raise and follow requests, and see nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.requests.events import Actor


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def on_behalf(resident: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data = {
        "type": "prescription",
        "details": "Collect from the chemist on the corner",
        "name": "Winston Adeyemi",
        "address_line1": "4 Lillie Road",
        "postcode": resident["postcode"],
        "phone": "020 7946 0000",
        "preferred_channel": "phone",
        "shielding": "no",
        "consent_given": "y",
        "due_by": ["", "", ""],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["partner", "councillor"])
@pytest.mark.parametrize("path", ["/partner/", "/partner/requests/new"])
def test_partner_pages_render_for_partners_and_councillors(
    client: Any, make_user: Any, login: Any, role: str, path: str
) -> None:
    login(make_user(role))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("role", ["coordinator", "volunteer", "admin"])
@pytest.mark.parametrize("path", ["/partner/", "/partner/requests/new"])
def test_partner_pages_refuse_other_roles(client: Any, make_user: Any, login: Any, role: str, path: str) -> None:
    login(make_user(role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/partner/", "/partner/requests/new", "/partner/requests/CAN-AAAA-BBBB"])
def test_partner_pages_send_anonymous_users_to_sign_in(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role, channel", [("partner", "partner"), ("councillor", "councillor")])
def test_raise_a_request_on_behalf_of_a_resident(
    client: Any, make_user: Any, login: Any, resident_data: dict[str, Any], db: Any, role: str, channel: str
) -> None:
    user = make_user(role)
    login(user)
    response = client.post("/partner/requests/new", data=on_behalf(resident_data))
    assert response.status_code == 302
    req = db.session.scalar(select(HelpRequest))
    assert req.channel == channel and req.raised_by_id == user.id
    page = text(client.get(response.headers["Location"]))
    assert req.reference in page and "Winston Adeyemi" in page and "Request received" in page
    assert "020 7946 0000" not in page and "+442079460000" not in page and "4 Lillie Road" not in page
    assert req.reference in text(client.get("/partner/"))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Enter full name"),
        ("postcode", "SW1", "postcode"),
        ("phone", "0123", "phone number"),
        ("details", "x" * 2001, "2000 characters or fewer"),
        ("details", "<a href=x>hi</a>", "must not contain HTML"),
        ("consent_given", "", "Confirm that the resident agreed"),
    ],
)
def test_bad_input_on_behalf_is_shown_and_kept(
    client: Any,
    make_user: Any,
    login: Any,
    resident_data: dict[str, Any],
    db: Any,
    field: str,
    value: str,
    message: str,
) -> None:
    login(make_user("partner"))
    response = client.post("/partner/requests/new", data=on_behalf(resident_data, **{field: value}))
    assert response.status_code == 400
    page = text(response)
    assert message in page and "govuk-error-summary" in page and "4 Lillie Road" in page
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == 0


def test_partner_sees_only_their_own_requests(client: Any, make_user: Any, login: Any, make_request: Any) -> None:
    mine_user, other_user = make_user("partner"), make_user("partner")
    mine = make_request(actor=Actor(role="partner", user_id=mine_user.id), resident={"name": "Mine Person"})
    theirs = make_request(actor=Actor(role="partner", user_id=other_user.id), resident={"name": "Their Person"})
    walk_in = make_request(resident={"name": "Phone Person"})
    login(mine_user)
    page = text(client.get("/partner/"))
    assert mine.reference in page and theirs.reference not in page and walk_in.reference not in page
    assert "Their Person" not in page
    assert client.get(f"/partner/requests/{mine.reference}").status_code == 200
    assert client.get(f"/partner/requests/{theirs.reference}").status_code == 404
    assert client.get(f"/partner/requests/{walk_in.reference}").status_code == 404
    assert client.post(f"/partner/requests/{theirs.reference}/cancel", data={"reason": "x"}).status_code == 404


def test_councillor_sees_requests_of_their_ward(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    in_ward = make_request(resident={"name": "Ward Person"})
    ward = db.session.get(Resident, in_ward.resident_id).ward_code
    assert ward, "the generated postcode directory gives wards"
    outside = make_request(resident={"name": "Elsewhere Person"})
    db.session.get(Resident, outside.resident_id).ward_code = "E05999999"
    db.session.commit()
    councillor = make_user("councillor", ward_code=ward)
    login(councillor)
    page = text(client.get("/partner/"))
    assert in_ward.reference in page and outside.reference not in page
    detail = client.get(f"/partner/requests/{in_ward.reference}")
    assert detail.status_code == 200
    # Not raised by them: they follow it but cannot cancel it.
    assert "Cancel the request" not in text(detail)
    assert client.get(f"/partner/requests/{outside.reference}").status_code == 404


def test_partner_cancels_their_own_new_request_with_a_reason(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    user = make_user("partner")
    req = make_request(actor=Actor(role="partner", user_id=user.id))
    login(user)
    response = client.post(f"/partner/requests/{req.reference}/cancel", data={"reason": ""})
    assert response.status_code == 409
    assert "Enter why the request should be cancelled" in text(response)
    response = client.post(f"/partner/requests/{req.reference}/cancel", data={"reason": "Family are helping now"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "cancelled"


def test_partner_cannot_cancel_once_matched(
    client: Any, make_user: Any, login: Any, make_request: Any, make_volunteer: Any, db: Any
) -> None:
    from can_crm import unit_of_work
    from can_crm.services.requests import operations as requests

    user = make_user("partner")
    req = make_request(actor=Actor(role="partner", user_id=user.id))
    coord = Actor(role="coordinator")
    requests.triage(req, {}, coord)
    requests.assign_volunteer(req, make_volunteer().id, coord)
    unit_of_work.commit()
    login(user)
    response = client.post(f"/partner/requests/{req.reference}/cancel", data={"reason": "No longer needed"})
    assert response.status_code == 409
    assert "cannot move" in text(response) or "Your role" in text(response)
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "matched"
