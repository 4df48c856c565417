"""Staff pages (coordinator, partner, councillor, admin) pass axe-core at 360 px and 1280 px, and a
coordinator with JavaScript switched off signs in, finds a request in the queue and triages it."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import assert_accessible, no_horizontal_scroll, screenshot, sign_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PASSWORD = "correct horse battery staple"  # the password tests/conftest.py gives every user

# (role, endpoint) for every page without a URL argument in the coordinator, partner and admin blueprints.
STAFF_PAGES = [
    ("coordinator", "coordinator.queue"),
    ("coordinator", "coordinator.new_request"),
    ("coordinator", "coordinator.safeguarding"),
    ("coordinator", "coordinator.volunteers"),
    ("partner", "partner.my_requests"),
    ("partner", "partner.new_request"),
    ("councillor", "partner.my_requests"),
    ("admin", "admin.users"),
]


def sign_in(page: Any, user: Any) -> None:
    sign_in_page(page, user.email, PASSWORD)
    assert "/auth/sign-in" not in page.url, f"sign-in failed for {user.role}: {page.url}"


def url_for(live_app: Any, endpoint: str, **values: Any) -> str:
    from flask import url_for as flask_url_for

    if endpoint not in live_app.view_functions:
        pytest.fail(f"{endpoint} is not a route (yet): see can_crm/*/routes.py")
    with live_app.test_request_context():
        return str(flask_url_for(endpoint, **values))


def check(page: Any, label: str, name: str) -> None:
    assert page.locator("h1").count() >= 1, f"{label} has no <h1> (is it still a placeholder?): {page.content()[:200]}"
    assert_accessible(page, label)
    assert no_horizontal_scroll(page), f"{label} is wider than the {page.viewport_size['width']} px screen"
    screenshot(page, name)


@pytest.mark.parametrize("viewport", ["360", "1280"])
@pytest.mark.parametrize(("role", "endpoint"), STAFF_PAGES, ids=[f"{r}-{e}" for r, e in STAFF_PAGES])
def test_staff_page_is_accessible(
    open_page: Any,
    live_app: Any,
    make_user: Any,
    make_request: Any,
    make_volunteer: Any,
    role: str,
    endpoint: str,
    viewport: str,
) -> None:
    user = make_user(
        role,
        ward_code="E05013737" if role == "councillor" else None,
        organisation="Age UK" if role == "partner" else None,
    )
    make_request()
    make_volunteer()
    page = open_page(viewport)
    sign_in(page, user)
    response = page.goto(url_for(live_app, endpoint))
    assert response is not None and response.status == 200, f"{endpoint} answered {response and response.status}"
    check(page, f"{endpoint} as {role}", f"{role}-{endpoint.replace('.', '-')}")


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_request_page_is_accessible(
    open_page: Any, live_app: Any, make_user: Any, make_request: Any, make_volunteer: Any, viewport: str
) -> None:
    coordinator = make_user("coordinator")
    created = make_request()
    make_volunteer()
    page = open_page(viewport)
    sign_in(page, coordinator)
    response = page.goto(url_for(live_app, "coordinator.request_detail", reference=created.reference))
    assert response is not None and response.status == 200
    check(page, "the request page", "coordinator-request")


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_assisted_digital_form_with_errors_is_accessible(
    open_page: Any, live_app: Any, make_user: Any, viewport: str
) -> None:
    coordinator = make_user("coordinator")
    page = open_page(viewport)
    sign_in(page, coordinator)
    page.goto(url_for(live_app, "coordinator.new_request"))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Create request").click()
    assert posted.value.status == 400
    assert page.locator(".govuk-error-summary").is_visible()
    check(page, "the assisted digital form with errors", "coordinator-new-request-errors")


def test_coordinator_without_javascript_finds_and_triages_a_request(
    open_page: Any, live_app: Any, make_user: Any, make_request: Any
) -> None:
    coordinator = make_user("coordinator")
    created = make_request(request={"urgency": 1, "type": "prescription", "details": "Repeat prescription"})
    page = open_page("360", javascript=False)
    sign_in(page, coordinator)

    page.goto(url_for(live_app, "coordinator.queue"))
    link = page.get_by_role("link", name=created.reference)
    assert link.count() == 1, "the new request is not in the queue"
    link.click()
    page.wait_for_url(f"**/{created.reference}")
    assert created.reference in page.locator("h1").inner_text() or created.reference in page.content()

    # Triage is folded in a GOV.UK details element: HTML opens it, no script needed.
    page.get_by_text("Set urgency, skills, DBS check and notes").click()
    page.get_by_role("group", name="Urgency").get_by_label("Urgent").check()
    page.get_by_label("Pharmacy collection").check()
    page.get_by_label("Coordinator notes (optional)").fill("Call before visiting")
    page.get_by_role("button", name="Save triage").click()
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator(".govuk-error-summary").inner_text()
    body = page.locator("main").inner_text()
    assert "Triage saved" in page.content()
    assert "triaged" in body.lower()
    screenshot(page, "nojs-coordinator-triaged")

    from can_crm.extensions import db
    from can_crm.models.request import HelpRequest

    db.session.expire_all()
    saved = db.session.get(HelpRequest, created.id)
    assert saved.status == "triaged"
    assert saved.urgency == 3
    assert saved.required_skills == ["pharmacy_collection"]
    assert not page.recorder.foreign()


def test_coordinator_without_javascript_changes_status_with_one_form(
    open_page: Any, live_app: Any, make_user: Any, make_request: Any
) -> None:
    coordinator = make_user("coordinator")
    created = make_request()
    page = open_page("360", javascript=False)
    sign_in(page, coordinator)
    page.goto(url_for(live_app, "coordinator.request_detail", reference=created.reference))
    assert page.get_by_role("button", name="Change status").count() == 1, "one change-status button, not one per state"

    page.get_by_role("button", name="Change status").click()  # nothing chosen: an error, not a 500
    page.wait_for_load_state()
    assert "Select the new status" in page.locator(".govuk-error-summary").inner_text()

    page.get_by_role("group", name="Change the status to").get_by_label("Cancelled").check()
    page.get_by_role("button", name="Change status").click()  # a reason is needed: the choice is kept
    page.wait_for_load_state()
    assert "Give a reason" in page.locator(".govuk-error-summary").inner_text()

    page.get_by_role("group", name="Change the status to").get_by_label("Cancelled").check()
    page.get_by_label("Reason", exact=True).fill("The resident's family is helping now")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state()
    assert "Request moved to cancelled" in page.content()
    screenshot(page, "nojs-coordinator-cancelled")


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_refusals_on_the_request_and_campaign_pages_are_accessible(
    open_page: Any, live_app: Any, make_user: Any, make_request: Any, postcode_index: Any, viewport: str
) -> None:
    """A status change posted after the request was closed elsewhere (409, the summary says why), and a call
    outcome refused by its field: both pages with their errors pass axe-core and fit the screen."""
    from can_crm import unit_of_work
    from can_crm.services.outreach import campaigns, shielded
    from can_crm.services.requests import lifecycle
    from can_crm.services.requests.events import Actor
    from geo.directory import PostcodeDirectory
    from tests.shielded_helpers import csv_bytes, rows

    coordinator = make_user("coordinator")
    created = make_request()
    shielded.import_shielded(csv_bytes(rows(2, sorted(PostcodeDirectory.load(postcode_index))[:2])))
    campaign = campaigns.create_campaign({"name": "Check-in", "channel": "phone"}, coordinator.id)
    campaigns.launch(campaign)
    unit_of_work.commit()
    page = open_page(viewport)
    sign_in(page, coordinator)

    page.goto(url_for(live_app, "coordinator.request_detail", reference=created.reference))
    lifecycle.transition(created, "cancelled", Actor(role="coordinator"), "Closed in another tab")
    unit_of_work.commit()
    page.get_by_role("group", name="Change the status to").get_by_label("Escalated").check()
    page.get_by_label("Reason", exact=True).fill("Urgent now")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Change status").click()
    assert posted.value.status == 409
    assert "This request is now cancelled" in page.locator(".govuk-error-summary").inner_text()
    check(page, "the request page after it moved on", "coordinator-request-moved-on")

    page.goto(url_for(live_app, "coordinator.campaign_detail", campaign_id=campaign.id))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Record call").first.click()  # "Needs help", but not what with
    assert posted.value.status == 400
    page.locator(".govuk-error-summary a").click()
    assert page.evaluate("() => document.activeElement.name") == "type"  # the summary link reaches the field
    check(page, "the campaign page with a refused outcome", "coordinator-campaign-outcome-error")
