"""The public pages pass axe-core at 360 px and 1280 px, fit a small phone, and load nothing off the machine."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from browser_helpers import assert_accessible, no_horizontal_scroll, screenshot

from can_crm.services.common import times

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

REFERENCE = re.compile(r"CAN-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def check(page: Any, label: str, name: str) -> None:
    assert_accessible(page, label)
    assert no_horizontal_scroll(page), f"{label} is wider than the {page.viewport_size['width']} px screen"
    screenshot(page, name)


def fill_request_form(page: Any, *, name: str, postcode: str) -> None:
    page.get_by_label("Shopping").check()
    page.get_by_label("Tell us what you need").fill("A weekly shop for 2 people")
    due = times.today() + timedelta(days=3)
    page.get_by_label("Day").fill(str(due.day))
    page.get_by_label("Month").fill(str(due.month))
    page.get_by_label("Year").fill(str(due.year))
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Address line 1").fill("12 Fulham Palace Road")
    page.get_by_label("Postcode").fill(postcode)
    page.get_by_label("Phone number").fill("07911 123456")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("I agree that the council").check()


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_start_page_and_empty_form_are_accessible(open_page: Any, viewport: str) -> None:
    page = open_page(viewport)
    page.goto("/")
    check(page, "the landing page", "landing")
    page.goto("/request-help")
    assert page.title().startswith("Ask for help")
    check(page, "the start page", "start")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url("**/request-help/form")
    check(page, "the empty request form", "form-empty")


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_form_with_errors_and_confirmation_are_accessible(open_page: Any, viewport: str, hf_postcode: str) -> None:
    page = open_page(viewport)
    page.goto("/request-help/form")
    fill_request_form(page, name="", postcode="NOT A POSTCODE")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_selector(".govuk-error-summary")
    assert page.title().startswith("Error: ")
    check(page, "the request form with errors", "form-errors")

    page.get_by_label("Full name").fill("Margaret Okafor")
    page.get_by_label("Postcode").fill(hf_postcode)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/request-help/confirmation")
    assert REFERENCE.search(page.locator(".govuk-panel").inner_text())
    check(page, "the confirmation page", "confirmation")


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_track_pages_are_accessible(open_page: Any, viewport: str, make_request: Any, hf_postcode: str) -> None:
    created = make_request()
    page = open_page(viewport)
    page.goto("/track")
    check(page, "the empty track page", "track-empty")

    page.get_by_role("button", name="Check progress").click()
    page.wait_for_selector(".govuk-error-summary")
    check(page, "the track page with errors", "track-errors")

    page.get_by_label("Request reference").fill(created.reference)
    page.get_by_label("Your postcode").fill(hf_postcode)
    page.get_by_role("button", name="Check progress").click()
    page.wait_for_selector(".govuk-summary-list")
    assert created.reference in page.locator(".govuk-summary-list").inner_text()
    check(page, "the track page showing a request", "track-found")


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_sign_in_page_is_accessible_with_and_without_errors(open_page: Any, viewport: str) -> None:
    page = open_page(viewport)
    page.goto("/auth/sign-in")
    check(page, "the sign-in page", "sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".govuk-error-summary")
    check(page, "the sign-in page with errors", "sign-in-errors")


def test_pages_load_only_from_this_machine(open_page: Any) -> None:
    page = open_page("1280")
    for path in ("/", "/request-help", "/request-help/form", "/track", "/auth/sign-in"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    urls = page.recorder.urls
    assert any("/static/govuk.css" in u for u in urls), urls
    assert any("/static/app.js" in u for u in urls), urls
    assert not page.recorder.foreign(), page.recorder.foreign()
