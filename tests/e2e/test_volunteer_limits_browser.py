"""In Chromium at phone width: a coordinator offering a request by hand to a volunteer at their limit is refused
on the page (GOV.UK error summary, choice kept), and the volunteer form asks how offers reach them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.browser_helpers import assert_accessible, no_horizontal_scroll, screenshot, sign_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


def test_an_offer_to_a_volunteer_at_their_limit_is_refused_on_a_phone(
    open_page: Any, make_user: Any, make_volunteer: Any, make_request: Any
) -> None:
    from can_crm import unit_of_work
    from can_crm.services.requests import operations as requests
    from can_crm.services.requests.events import Actor

    coordinator = make_user("coordinator")
    busy = make_volunteer(name="Busy Helper", capacity="1", offers_by="sms")
    held, wanted = make_request(), make_request()
    for request in (held, wanted):
        requests.triage(request, {}, Actor(role="coordinator"))
    requests.assign_volunteer(held, busy.id, Actor(role="coordinator"))
    unit_of_work.commit()

    page = open_page("360")
    sign_in_page(page, coordinator.email, PASSWORD)
    page.goto(f"/coordinator/requests/{wanted.reference}")
    choice = page.get_by_label("Volunteer", exact=True)
    option = page.locator(f'#volunteer_id option[value="{busy.id}"]').inner_text()
    assert "at their limit (1 at once)" in option and "offered by text message" in option
    choice.select_option(str(busy.id))
    page.get_by_role("button", name="Assign volunteer").click()
    summary = page.locator(".govuk-error-summary")
    assert (
        "Choose another volunteer" in summary.inner_text() and "no spare capacity (1 at once)" in summary.inner_text()
    )
    assert page.locator("#volunteer_id").input_value() == str(busy.id)  # the choice is kept
    assert no_horizontal_scroll(page)
    assert_accessible(page, "request page, offer refused at the volunteer's limit")
    screenshot(page, "offer-refused-at-limit")

    page.goto(f"/coordinator/volunteers/{busy.id}")
    assert page.get_by_label("By text message: I reply YES or NO").is_checked()
    assert no_horizontal_scroll(page)
    assert_accessible(page, "volunteer form, offers by text")
    screenshot(page, "volunteer-form-offers-by")
