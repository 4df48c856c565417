"""Delivery rounds in Chromium: a coordinator plans today's rounds and approves the draft; the volunteer, on a
390 x 844 phone, sees the round in order, accepts it, opens the route, and marks a stop delivered. axe-core on each
page; screenshots in artifacts/screenshots/."""

from __future__ import annotations

import time
from typing import Any

import pytest
from browser_helpers import assert_accessible, no_horizontal_scroll, screenshot, sign_in_page
from sqlalchemy import func, select

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def wait_for(predicate: Any, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def delivered_events(db: Any, request_id: int) -> int:
    from can_crm.models.request import RequestEvent

    db.session.rollback()
    return int(
        db.session.scalar(
            select(func.count()).where(RequestEvent.request_id == request_id, RequestEvent.to_status == "delivered")
        )
    )


def test_coordinator_plans_and_approves_and_the_volunteer_delivers_on_the_phone(
    open_page: Any, db: Any, make_user: Any, make_request: Any, make_volunteer: Any
) -> None:
    from can_crm import unit_of_work
    from tests.integration.rounds_helpers import driver, food

    requests = [food(make_request, km, urgency=u) for km, u in ((0.6, 3), (1.2, 2), (1.8, 1))]
    vol = driver(make_volunteer, "Ann Driver")
    user = make_user("volunteer")
    vol.user_id = user.id
    unit_of_work.commit()

    desk = open_page("1280")
    sign_in_page(desk, make_user("coordinator").email, PASSWORD)
    desk.goto("/coordinator/rounds")
    assert_accessible(desk, "rounds planning")
    desk.get_by_label("Ann Driver drives a round today").check()
    desk.get_by_label("Parcels the car takes").fill("8")
    desk.get_by_role("button", name="Plan the rounds").click()
    desk.wait_for_url("**/coordinator/rounds/*")
    # The page refreshes itself until the planning job has written the draft.
    desk.get_by_role("button", name="Approve and offer to the volunteers").wait_for(timeout=30_000)
    assert all(r.reference in desk.content() for r in requests)
    assert_accessible(desk, "round plan (draft)")
    screenshot(desk, "coordinator-round-plan")
    narrow = open_page("360")
    sign_in_page(narrow, make_user("coordinator").email, PASSWORD)
    narrow.goto(desk.url)
    assert_accessible(narrow, "round plan at 360 px")
    assert no_horizontal_scroll(narrow), "the round plan is wider than a 360 px screen"
    screenshot(narrow, "coordinator-round-plan")
    desk.get_by_role("button", name="Approve and offer to the volunteers").click()
    desk.get_by_text("Plan approved: 3 requests offered").wait_for()

    phone = open_page("390")
    assert phone.viewport_size == {"width": 390, "height": 844}
    sign_in_page(phone, user.email, PASSWORD)
    phone.goto("/volunteer/round")
    assert "Margaret Okafor" not in phone.content()  # no names or addresses before accepting
    assert_accessible(phone, "volunteer round (offered)")
    phone.get_by_role("button", name="Accept the round").click()
    phone.get_by_text("Round accepted (3 stops)").wait_for()
    assert "Margaret Okafor" in phone.content()
    route = phone.get_by_role("link", name="Open the route in your maps app")
    assert route.get_attribute("href").startswith("https://www.google.com/maps/dir/?api=1&origin=")
    assert_accessible(phone, "volunteer round (accepted)")
    assert no_horizontal_scroll(phone), "the round is wider than the phone"
    screenshot(phone, "volunteer-round")

    first_reference = phone.locator("li[id^=stop-]").first.get_attribute("id").removeprefix("stop-")
    first = next(r for r in requests if r.reference == first_reference)
    phone.get_by_role("button", name="Delivered stop 1").click()
    assert wait_for(lambda: delivered_events(db, first.id) == 1)
    # The page reloads once the update is sent: the stop shows as delivered.
    phone.locator(f"#stop-{first_reference}").get_by_text("Delivered. These details leave your phone").wait_for()
    assert_accessible(phone, "volunteer round (a stop delivered)")
    screenshot(phone, "volunteer-round-delivered")
