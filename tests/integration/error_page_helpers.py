"""Checks for a page that answers a refused form post the GOV.UK way (shared by the page tests of each area).

An error summary whose every link goes to something on the page, and, for a field the person fills in, the
message by that field: the GOV.UK macros give it the id `<field id>-error`.
"""

from __future__ import annotations

import re
from typing import Any

SUMMARY = re.compile(r'<div class="govuk-error-summary".*?</ul>', re.S)


def summary(page: str) -> str:
    """The error summary's HTML (the test fails when the page has none, or its title does not start "Error: ")."""
    found = SUMMARY.search(page)
    assert found, "no GOV.UK error summary on the page"
    assert "<title>Error: " in page, "a page with an error summary has a title that starts with Error:"
    return found.group(0)


def summary_links(page: str) -> list[str]:
    """The ids the error summary's items link to; each must be an element of the page, never dangling."""
    targets = re.findall(r'href="#([^"]+)"', summary(page))
    missing = [t for t in targets if f'id="{t}"' not in page]
    assert not missing, f"the error summary links to {missing}, which are not on the page"
    return targets


def assert_message_by_field(response: Any, status: int, field_id: str, message: str) -> str:
    """`status`, the summary links to the field, and `message` is by the field (and in the summary)."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:2000]
    assert field_id in summary_links(page)
    assert message in summary(page)
    by_field = re.search(rf'<p id="{re.escape(field_id)}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert by_field and message in by_field.group(1), f"no message {message!r} by the field {field_id}"
    return page


def assert_plain_refusal(response: Any, message: str) -> str:
    """A 409: the summary says why, links only to what is on the page, and no field carries a message."""
    page = response.get_data(as_text=True)
    assert response.status_code == 409, page[:2000]
    summary_links(page)
    assert message in summary(page)
    assert "govuk-error-message" not in page
    return page
