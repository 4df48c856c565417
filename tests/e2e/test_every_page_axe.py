"""axe-core on every page each role can reach, at 360 px and 1280 px, in real Chromium.

The pages come from walking the app (tests/site_walk.py: every link from the start pages, as that role),
not from a list: a page another team adds is checked as soon as a link reaches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_helpers import axe_violations, format_violations, no_horizontal_scroll, sign_in_page
from site_walk import Fetched, coverage_problems, seed, shape, sign_in, walk

from tests.conftest import PASSWORD, postcode_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

ROLES = ["anonymous", "admin", "coordinator", "partner", "councillor", "volunteer"]
START = ["/", "/coordinator/", "/partner/", "/admin/users", "/request-help", "/track"]


def pages_for(live_app: Any, role: str, email: str | None) -> list[str]:
    """Every HTML page the role reaches by links, one of each kind (one request page, not all of them)."""
    client = live_app.test_client()
    if email is not None:
        sign_in(client, email)  # the password and, for staff, the second factor

    def get(path: str) -> Fetched:
        return Fetched.of(client.get(path, follow_redirects=True))

    found = walk(get, START)
    assert not found.errors, found.errors
    assert not coverage_problems(role, found), coverage_problems(role, found)
    reached = found.reached()
    pages: dict[str, str] = {}
    for path in found.pages:
        # Pages a redirect led away from are checked where they landed, under their own shape.
        if shape(path) in reached and shape(path) not in pages and get(path).content_type.startswith("text/html"):
            pages[shape(path)] = path
    return sorted(pages.values())


@pytest.mark.parametrize("viewport", ["360", "1280"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_passes_axe(
    open_page: Any, live_app: Any, postcode_index: Path, db: Any, role: str, viewport: str
) -> None:
    emails = seed(postcode_in(postcode_index))
    email = emails.get(role)
    paths = pages_for(live_app, role, email)
    page = open_page(viewport)
    if email is not None:
        sign_in_page(page, email, PASSWORD)  # the password, then (staff) the TOTP code
        assert "/auth/" not in page.url, f"the browser's sign-in as {role} stopped at {page.url}"
    problems: list[str] = []
    for path in paths:
        response = page.goto(path)
        if response is None or response.status >= 500:
            problems.append(f"{path} answered {response and response.status}")
            continue
        if shape(urlsplit(page.url).path) != shape(path):
            problems.append(f"{path} led the browser to {page.url}, not the page the walk checked")
            continue
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}:\n{format_violations(violations)}")
        if not no_horizontal_scroll(page):
            problems.append(f"{path} is wider than the {viewport} px screen")
    print(f"{role} at {viewport} px: {len(paths)} pages: {' '.join(paths)}")
    assert not problems, f"as {role} at {viewport} px:\n" + "\n".join(problems)
