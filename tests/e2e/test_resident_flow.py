"""A resident asks for help with JavaScript switched off, makes mistakes, fixes them and tracks the request."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from browser_helpers import screenshot

from can_crm.services.common import times

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

REFERENCE = re.compile(r"CAN-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def test_resident_without_javascript_fixes_mistakes_keeps_everything_typed_and_tracks_the_request(
    open_page: Any, hf_postcode: str
) -> None:
    page = open_page("360", javascript=False)
    due = times.today() + timedelta(days=5)

    page.goto("/request-help")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url("**/request-help/form")

    page.get_by_label("Prescription collection").check()
    page.get_by_label("Tell us what you need").fill("Collect my repeat prescription from the pharmacy on King Street")
    page.get_by_label("Day").fill(str(due.day))
    page.get_by_label("Month").fill(str(due.month))
    page.get_by_label("Year").fill(str(due.year))
    page.get_by_label("Full name").fill("")
    page.get_by_label("Address line 1").fill("Flat 3, 41 Rylett Road")
    page.get_by_label("Town or city (optional)").fill("London")
    page.get_by_label("Postcode").fill("NOT A POSTCODE")
    page.get_by_label("Phone number").fill("07911 123456")
    page.get_by_label("Text message").check()
    page.get_by_label("Which language do you prefer? (optional)").fill("Polish")
    page.get_by_label("Do you have any accessibility needs? (optional)").fill("I use a wheelchair")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Is there anything the volunteer should know? (optional)").fill("Ring the bell twice")
    page.get_by_label("I agree that the council").check()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Send request").click()
    assert posted.value.status == 400

    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    summary_text = summary.inner_text()
    assert "Enter full name" in summary_text or "Enter your full name" in summary_text, summary_text
    assert "postcode" in summary_text.lower(), summary_text
    # Each summary entry links to its field, and the message also shows next to the field.
    for link in summary.locator("a").all():
        target = link.get_attribute("href")
        assert target and target.startswith("#"), target
        assert page.locator(target).count() == 1, f"error summary link {target} points at nothing"
    assert page.locator("#name-error").inner_text().strip()
    assert page.locator("#postcode-error").inner_text().strip()
    screenshot(page, "nojs-form-errors")

    # Nothing the resident typed is lost.
    assert page.get_by_label("Prescription collection").is_checked()
    assert page.get_by_label("Tell us what you need").input_value().startswith("Collect my repeat prescription")
    assert page.get_by_label("Day").input_value() == str(due.day)
    assert page.get_by_label("Month").input_value() == str(due.month)
    assert page.get_by_label("Year").input_value() == str(due.year)
    assert page.get_by_label("Address line 1").input_value() == "Flat 3, 41 Rylett Road"
    assert page.get_by_label("Town or city (optional)").input_value() == "London"
    assert page.get_by_label("Postcode").input_value() == "NOT A POSTCODE"
    assert page.get_by_label("Phone number").input_value() == "07911 123456"
    assert page.get_by_label("Text message").is_checked()
    assert page.get_by_label("Which language do you prefer? (optional)").input_value() == "Polish"
    assert page.get_by_label("Do you have any accessibility needs? (optional)").input_value() == "I use a wheelchair"
    assert page.get_by_label("Yes", exact=True).is_checked()
    assert page.get_by_label("Is there anything the volunteer should know? (optional)").input_value() == (
        "Ring the bell twice"
    )
    assert page.get_by_label("I agree that the council").is_checked()

    page.get_by_label("Full name").fill("Margaret Okafor")
    page.get_by_label("Postcode").fill(hf_postcode.lower())
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/request-help/confirmation")
    panel = page.locator(".govuk-panel").inner_text()
    match = REFERENCE.search(panel)
    assert match, panel
    reference = match.group(0)
    screenshot(page, "nojs-confirmation")

    page.get_by_role("link", name="Check on your request").click()
    page.wait_for_url("**/track")
    page.get_by_label("Request reference").fill(reference.lower().replace("-", " "))
    page.get_by_label("Your postcode").fill(hf_postcode)
    page.get_by_role("button", name="Check progress").click()
    progress = page.locator(".govuk-summary-list").inner_text()
    assert reference in progress
    assert "We have received your request" in progress
    assert "Prescription collection" in progress

    assert not page.recorder.foreign()


def test_track_refuses_a_reference_with_the_wrong_postcode_without_javascript(
    open_page: Any, make_request: Any
) -> None:
    created = make_request()
    page = open_page("360", javascript=False)
    page.goto("/track")
    page.get_by_label("Request reference").fill(created.reference)
    page.get_by_label("Your postcode").fill("SW1A 1AA")
    page.get_by_role("button", name="Check progress").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "could not find a request" in summary
    assert page.locator(".govuk-summary-list").count() == 0
    assert page.get_by_label("Request reference").input_value() == created.reference


def test_resident_can_leave_the_optional_date_blank(open_page: Any, hf_postcode: str) -> None:
    """The date is optional: a browser sends three empty boxes, which must mean "no date", not an error."""
    page = open_page("1280", javascript=False)
    page.goto("/request-help/form")
    page.get_by_label("Shopping").check()
    page.get_by_label("Tell us what you need").fill("A weekly shop for 2 people")
    page.get_by_label("Full name").fill("Margaret Okafor")
    page.get_by_label("Address line 1").fill("12 Fulham Palace Road")
    page.get_by_label("Postcode").fill(hf_postcode)
    page.get_by_label("Phone number").fill("07911 123456")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("I agree that the council").check()
    page.get_by_role("button", name="Send request").click()
    errors = page.locator(".govuk-error-summary")
    assert errors.count() == 0, errors.inner_text()
    assert page.url.endswith("/request-help/confirmation")
