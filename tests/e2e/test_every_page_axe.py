"""axe-core on every page each role can reach, at 360 px and 1280 px, in real Chromium.

The pages come from walking the app (tests/site_walk.py: every link from the start pages, as that role),
not from a list: a page another team adds is checked as soon as a link reaches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import axe_violations, format_violations, no_horizontal_scroll
from site_walk import parse, seed, shape, walk

from tests.conftest import PASSWORD, postcode_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

ROLES = ["anonymous", "admin", "coordinator", "partner", "councillor", "volunteer"]
START = ["/", "/coordinator/", "/partner/", "/admin/users", "/request-help", "/track"]


def pages_for(live_app: Any, email: str | None) -> list[str]:
    """Every HTML page the role reaches by links, one of each kind (one request page, not all of them)."""
    client = live_app.test_client()
    if email is not None:
        _, _, token = parse("/auth/sign-in", client.get("/auth/sign-in").get_data(as_text=True))
        response = client.post("/auth/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"sign-in as {email} answered {response.status_code}"

    def get(path: str) -> tuple[int, str, str]:
        response = client.get(path, follow_redirects=True)
        if "attachment" in response.headers.get("Content-Disposition", ""):
            return response.status_code, "application/x-download", ""  # a file to save, not a page to check
        return response.status_code, response.content_type or "", response.get_data(as_text=True)

    found = walk(get, START)
    assert not found.errors, found.errors
    pages: dict[str, str] = {}
    for path, status in found.pages.items():
        status_ok = status == 200
        if status_ok and shape(path) not in pages and get(path)[1].startswith("text/html"):
            pages[shape(path)] = path
    return sorted(pages.values())


@pytest.mark.parametrize("viewport", ["360", "1280"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_passes_axe(
    open_page: Any, live_app: Any, postcode_index: Path, db: Any, role: str, viewport: str
) -> None:
    emails = seed(postcode_in(postcode_index))
    email = emails.get(role)
    paths = pages_for(live_app, email)
    assert len(paths) >= 3, f"the walk as {role} found only {paths}"
    page = open_page(viewport)
    if email is not None:
        page.goto("/auth/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    problems: list[str] = []
    for path in paths:
        response = page.goto(path)
        if response is None or response.status >= 500:
            problems.append(f"{path} answered {response and response.status}")
            continue
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}:\n{format_violations(violations)}")
        if not no_horizontal_scroll(page):
            problems.append(f"{path} is wider than the {viewport} px screen")
    print(f"{role} at {viewport} px: {len(paths)} pages: {' '.join(paths)}")
    assert not problems, f"as {role} at {viewport} px:\n" + "\n".join(problems)
