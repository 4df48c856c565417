"""The coordinator map page in real Chromium: the layer and legend draw, nothing leaves 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from maps_helpers import postcode_in, requests_for_people  # noqa: E402

from tests.e2e.browser_helpers import SCREENSHOTS, axe_violations, format_violations, sign_in_page  # noqa: E402

PASSWORD = "correct horse battery staple"
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]


@pytest.fixture(autouse=True)
def map_cache(live_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(live_app.config, "HEATMAP_CACHE_DIR", str(tmp_path / "heatmaps"))


def sign_in(page: Any, email: str) -> None:
    sign_in_page(page, email, PASSWORD)


def test_map_page_draws_the_layer_and_legend_from_this_machine_only(
    open_page: Any, make_user: Any, make_request: Any, hf_postcode: str, postcode_index: Path
) -> None:
    user = make_user("coordinator")
    requests_for_people(make_request, 6, hf_postcode, per_person=2)
    requests_for_people(make_request, 5, hf_postcode, tag="more")
    requests_for_people(make_request, 2, postcode_in(postcode_index, "E09000020"), tag="ken")
    page = open_page(viewport="1280")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, user.email)
    page.goto("/coordinator/maps?layer=open-requests")
    assert page.title().startswith("Maps of need and supply")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-overlay-pane canvas, .leaflet-overlay-pane path').length > 0"
    )
    assert "Open requests" in page.locator(".can-geo-legend.leaflet-control").inner_text()
    assert "Open requests for help" in page.locator(".can-geo-title.leaflet-control").inner_text()
    assert "Key: Open requests" in page.locator("#map-legend").inner_text()
    assert page.locator("#map-table tbody tr").count() >= 1
    assert not errors, errors  # no script errors, no CSP refusals
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "map.png"), full_page=True)
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
    urls = page.recorder.urls  # the fixture also fails the test if any URL left 127.0.0.1
    assert any(u.endswith("/assets/leaflet/leaflet.js") for u in urls)


def test_map_page_without_javascript_still_has_the_table(
    open_page: Any, make_user: Any, make_request: Any, hf_postcode: str
) -> None:
    user = make_user("coordinator")
    requests_for_people(make_request, 5, hf_postcode, shielding=True)
    page = open_page(viewport="360", javascript=False)
    sign_in(page, user.email)
    page.goto("/coordinator/maps?layer=shielded")
    assert "Shielded residents" in page.locator("#map-title").inner_text()
    assert page.locator("#map-table tbody tr").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
