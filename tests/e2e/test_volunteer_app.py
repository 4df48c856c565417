"""The volunteer app in Chromium at phone sizes: sign-up, vetting, offer, accept, progress, delivered; decline
and rematch; delivered while offline reaches the server exactly once. Every volunteer page passes axe-core, tap
targets are at least 44 px, screenshots in artifacts/screenshots/."""

from __future__ import annotations

import time
from typing import Any

import pytest
from browser_helpers import assert_accessible, no_horizontal_scroll, screenshot, sign_in_page
from sqlalchemy import func, select

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PASSWORD = "correct horse battery staple"


def sign_in(page: Any, email: str) -> None:
    sign_in_page(page, email, PASSWORD)  # staff then give their second factor; volunteers have none
    assert "/auth/" not in page.url


def check(page: Any, label: str) -> None:
    assert_accessible(page, label)
    assert no_horizontal_scroll(page), f"{label} is wider than the screen"
    small = page.evaluate(
        """() => [...document.querySelectorAll('main button, main .govuk-button, main a.app-tap')]
              .filter(e => e.offsetParent !== null)
              .map(e => [e.textContent.trim().slice(0, 40), e.getBoundingClientRect().height])
              .filter(([, h]) => h < 44)"""
    )
    assert not small, f"tap targets under 44 px on {label}: {small}"
    screenshot(page, f"volunteer-{label}")


def offer_to(make_request: Any, volunteer_id: int, **overrides: Any) -> Any:
    from can_crm import unit_of_work
    from can_crm.services.requests import operations as requests
    from can_crm.services.requests.events import Actor

    request = make_request(**overrides)
    requests.triage(request, {}, Actor(role="coordinator"))
    requests.assign_volunteer(request, volunteer_id, Actor(role="coordinator"))
    unit_of_work.commit()
    return request


def events_to(db: Any, request_id: int, status: str) -> int:
    from can_crm.models.request import RequestEvent

    db.session.rollback()
    return int(
        db.session.scalar(
            select(func.count()).where(RequestEvent.request_id == request_id, RequestEvent.to_status == status)
        )
    )


def wait_for(predicate: Any, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.parametrize("viewport", ["390", "360"])
def test_sign_up_vetting_offer_accept_progress_delivered(
    open_page: Any, db: Any, make_user: Any, make_request: Any, hf_postcode: str, viewport: str
) -> None:
    from can_crm.models.volunteer import Volunteer

    phone = open_page(viewport)
    phone.goto("/volunteer/sign-up")
    check(phone, f"sign-up-{viewport}")
    phone.get_by_label("Full name").fill("Priya Helper")
    phone.get_by_label("Email address").fill("priya@example.org")
    phone.get_by_label("Create a password").fill(PASSWORD)
    phone.get_by_label("Mobile phone number").fill("07911 123458")
    phone.get_by_label("Home postcode").fill(hf_postcode)
    phone.get_by_label("How far will you travel, in kilometres?").fill("3")
    phone.get_by_label("Bicycle").check()
    phone.get_by_label("Most tasks you can take on at once").fill("2")
    phone.get_by_label("Shopping").first.check()
    phone.get_by_role("button", name="Sign up to volunteer").click()
    phone.wait_for_url("**/volunteer/profile**")
    assert "check your details" in phone.content()
    check(phone, f"profile-{viewport}")
    volunteer_id = db.session.scalar(select(Volunteer.id).where(Volunteer.email == "priya@example.org"))

    desk = open_page("1280")
    sign_in(desk, make_user("coordinator").email)
    desk.goto(f"/coordinator/volunteers/{volunteer_id}/vetting")
    desk.get_by_label("I have seen proof of their identity").check()
    desk.get_by_label("Approve: they can be offered work").check()
    desk.get_by_role("button", name="Record the decision").click()
    desk.wait_for_url("**/coordinator/volunteers")

    request = offer_to(make_request, volunteer_id)
    phone.goto("/volunteer/")
    assert request.reference in phone.content() and "Margaret" not in phone.content()
    check(phone, f"offers-{viewport}")
    phone.get_by_role("button", name="Accept").click()
    phone.wait_for_url("**/volunteer/tasks**")
    assert "Margaret Okafor" in phone.content()
    check(phone, f"tasks-{viewport}")
    phone.get_by_role("button", name="On my way").click()
    assert wait_for(lambda: events_to(db, request.id, "in_progress") == 1)
    # The page reloads itself once the update is sent: wait for the new state rather than race the reload.
    phone.locator(".govuk-tag", has_text="In progress").wait_for()
    phone.get_by_role("button", name="Delivered").click()
    assert wait_for(lambda: events_to(db, request.id, "delivered") == 1)
    phone.get_by_text("These details leave your phone").wait_for()
    check(phone, f"tasks-delivered-{viewport}")
    phone.goto("/volunteer/nearby")
    check(phone, f"nearby-{viewport}")


def test_decline_sends_the_request_back_and_it_is_offered_to_someone_else(
    open_page: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any
) -> None:
    from can_crm import unit_of_work
    from can_crm.services.matching.runs import declined_by

    users = [make_user("volunteer"), make_user("volunteer")]
    volunteers = [make_volunteer(name=name) for name in ("First Helper", "Second Helper")]
    for user, volunteer in zip(users, volunteers, strict=True):
        volunteer.user_id = user.id
    unit_of_work.commit()
    request = offer_to(make_request, volunteers[0].id)
    phone = open_page("390")
    sign_in(phone, users[0].email)
    phone.goto("/volunteer/")
    phone.get_by_text("I cannot do this one").click()
    phone.get_by_label("Why are you declining? (optional)").fill("Away this week")
    phone.get_by_role("button", name="Decline").click()
    phone.wait_for_load_state()
    assert "Declined" in phone.content() and request.reference not in phone.content()
    assert events_to(db, request.id, "triaged") == 2  # triage, then the decline
    assert volunteers[0].id in declined_by([request.id]).get(request.id, set())

    from can_crm.models.request import HelpRequest
    from can_crm.services.requests import operations as requests
    from can_crm.services.requests.events import Actor

    requests.assign_volunteer(db.session.get(HelpRequest, request.id), volunteers[1].id, Actor(role="coordinator"))
    unit_of_work.commit()
    other = open_page("360")
    sign_in(other, users[1].email)
    other.goto("/volunteer/")
    assert request.reference in other.content()


def test_delivered_while_offline_reaches_the_server_exactly_once(
    open_page: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any
) -> None:
    from can_crm import unit_of_work

    user = make_user("volunteer")
    volunteer = make_volunteer()
    volunteer.user_id = user.id
    unit_of_work.commit()
    request = offer_to(make_request, volunteer.id)
    phone = open_page("390")
    sign_in(phone, user.email)
    # A cache an older version of the app left on the phone: the worker removes it when it starts.
    phone.evaluate("async () => (await caches.open('can-volunteer-v1')).put('/static/old.css', new Response('old'))")
    phone.goto("/volunteer/")
    phone.get_by_role("button", name="Accept").click()
    phone.wait_for_url("**/volunteer/tasks**")
    phone.evaluate("() => navigator.serviceWorker.ready")
    phone.reload()  # now controlled by the service worker, which keeps the task list
    phone.wait_for_load_state()
    # The worker deletes the old cache in its activate step, which `ready` does not wait for: wait for it (a
    # worker that kept it fails here after 10 s). Polled from here: wait_for_function takes the promise an async
    # predicate returns as a true value at once, so it did not wait (a make test run saw the old cache still there).
    deadline = time.monotonic() + 10
    while phone.evaluate("() => caches.keys()") != ["can-volunteer-v2"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert phone.evaluate("() => caches.keys()") == ["can-volunteer-v2"]
    # Assets are kept for offline use and fetched again behind the kept copy, so a new version of the styles
    # reaches the phone: an out-of-date copy is replaced after one more load (a cache-first worker kept it).
    phone.evaluate(
        "async () => (await caches.open('can-volunteer-v2')).put('/static/app.css', new Response('/* old */'))"
    )
    another_tab = phone.context.new_page()  # its own memory cache: its styles are asked of the worker
    another_tab.goto("/volunteer/tasks")
    another_tab.wait_for_load_state()
    another_tab.close()
    kept = "async () => (await (await caches.match('/static/app.css')).text())"
    assert wait_for(lambda: ".app-table-wrapper" in phone.evaluate(kept), 10)

    phone.context.set_offline(True)
    phone.reload()  # the accepted task is still readable without a signal
    assert "Margaret Okafor" in phone.content()
    phone.get_by_role("button", name="Delivered").click()
    phone.get_by_role("button", name="Delivered").click()  # an impatient second tap: the same key
    phone.wait_for_function("() => document.body.textContent.includes('Saved on your phone')", timeout=10_000)
    screenshot(phone, "volunteer-tasks-offline")
    time.sleep(1)
    assert events_to(db, request.id, "delivered") == 0
    phone.context.set_offline(False)
    assert wait_for(lambda: events_to(db, request.id, "delivered") == 1, 40)
    time.sleep(2)
    assert events_to(db, request.id, "delivered") == 1


def test_an_account_without_a_profile_goes_from_its_pages_to_the_profile_to_fill_in(
    open_page: Any, make_user: Any, db: Any
) -> None:
    from can_crm.models.volunteer import Volunteer

    user = make_user("volunteer")  # the volunteer role, but no profile yet
    page = open_page("360")
    sign_in(page, user.email)  # to the offers page, which sends them on
    assert page.url.endswith("/volunteer/profile"), page.url
    check(page, "the profile page an account without a profile is sent to")
    screenshot(page, "volunteer-without-profile")
    assert db.session.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.user_id == user.id)) == 1
    page.goto("/volunteer/nearby")  # with the profile made, its pages show
    assert page.url.endswith("/volunteer/nearby") and page.get_by_role("heading", name="Nearby").is_visible()
