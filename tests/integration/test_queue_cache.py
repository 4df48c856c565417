"""The queue page is served from a shared cache only while what it shows is unchanged."""

from __future__ import annotations

from typing import Any

from can_crm import unit_of_work
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor


def test_queue_shows_every_change_at_once(
    client: Any, make_user: Any, login: Any, make_request: Any, make_volunteer: Any
) -> None:
    login(make_user("coordinator"))
    first = make_request()
    assert first.reference in client.get("/coordinator/").get_data(as_text=True)
    assert client.get("/coordinator/").get_data() == client.get("/coordinator/").get_data()
    second = make_request(resident={"name": "Second Person"})
    assert second.reference in client.get("/coordinator/").get_data(as_text=True)
    volunteer = make_volunteer(name="Quentin Helper")
    requests.triage(first, {}, Actor(role="coordinator"))
    requests.assign_volunteer(first, volunteer.id, Actor(role="coordinator"))
    unit_of_work.commit()
    assert "Quentin Helper" in client.get("/coordinator/").get_data(as_text=True)
    volunteer.name = "Quentin Renamed"
    unit_of_work.commit()
    assert "Quentin Renamed" in client.get("/coordinator/").get_data(as_text=True)


def test_cached_queue_is_never_shown_to_another_role(
    client: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    login(make_user("coordinator"))
    make_request()
    assert client.get("/coordinator/").status_code == 200
    client.post("/auth/sign-out")
    login(make_user("partner"))
    assert client.get("/coordinator/").status_code == 403
    client.post("/auth/sign-out")
    assert client.get("/coordinator/").status_code == 302


def test_a_flash_message_is_not_cached(client: Any, make_user: Any, login: Any, make_request: Any) -> None:
    login(make_user("coordinator"))
    req = make_request()
    client.get("/coordinator/")
    moved = client.post(f"/coordinator/requests/{req.reference}/transition", data={"to": "triaged"})
    assert moved.status_code == 302
    with_flash = client.get("/coordinator/").get_data(as_text=True)
    without = client.get("/coordinator/").get_data(as_text=True)
    assert with_flash != without
