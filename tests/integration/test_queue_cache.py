"""The queue page is served from a shared cache only while what it shows is unchanged."""

from __future__ import annotations

import re
from typing import Any

from flask import g

from can_crm import unit_of_work
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor
from tests.conftest import sign_in


def _without_nonce(response: Any) -> str:
    return re.sub(r'nonce="[^"]+"', 'nonce=""', response.get_data(as_text=True))


def test_queue_shows_every_change_at_once(
    client: Any, make_user: Any, login: Any, make_request: Any, make_volunteer: Any
) -> None:
    login(make_user("coordinator"))
    first = make_request()
    assert first.reference in client.get("/coordinator/").get_data(as_text=True)
    assert _without_nonce(client.get("/coordinator/")) == _without_nonce(client.get("/coordinator/"))
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


def test_a_cached_queue_carries_this_session_s_csrf_token_and_this_response_s_nonce(
    app: Any, client: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    make_request()
    login(make_user("coordinator"))
    other = app.test_client()
    assert sign_in(other, make_user("coordinator", email="second.coordinator@example.gov.uk")).status_code == 302
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        first = _fresh(client).get("/coordinator/")
        second = _fresh(other).get("/coordinator/")  # the same page from the shared cache, for another coordinator
        assert _without_nonce(first).replace(_token(first), "") == _without_nonce(second).replace(_token(second), "")
        assert _token(first) != _token(second)
        for response in (first, second):
            nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
            assert nonce is not None
            assert f'nonce="{nonce.group(1)}"' in response.get_data(as_text=True)
            assert "can-csrf-token" not in response.get_data(as_text=True)
        # The cached page's filter form posts with the second coordinator's own token.
        posted = _fresh(other).post("/coordinator/", data={"csrf_token": _token(second), "status": "open"})
        assert posted.status_code == 302, posted.get_data(as_text=True)[:300]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _fresh(test_client: Any) -> Any:
    # The fixtures keep one app context across requests, so `g` would carry one request's CSRF token and CSP
    # nonce into the next (a server gives each request its own): drop them as a new request would.
    g.pop("csrf_token", None)
    g.pop("csp_nonce", None)
    return test_client


def _token(response: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found is not None
    return found.group(1)
