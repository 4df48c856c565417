"""The coordinator map page: access, filters, the cache and its job, and the shareable downloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from maps_helpers import postcode_in, requests_for_people
from sqlalchemy import func, select

from can_crm.models.job import Job


@pytest.fixture(autouse=True)
def map_cache(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_DIR", str(tmp_path / "heatmaps"))
    return tmp_path / "heatmaps"


@pytest.fixture
def via_job(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every map goes through the render job, run as soon as the request commits."""
    monkeypatch.setitem(app.config, "HEATMAP_INLINE_MAX_ROWS", -1)
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)


@pytest.fixture
def coordinator(make_user: Any, login: Any) -> Any:
    return login(make_user("coordinator"))


def jobs(db: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Job).where(Job.name == "render_heatmap")))


@pytest.mark.parametrize("role", ["partner", "councillor", "admin", "volunteer"])
def test_only_coordinators_may_see_maps(client: Any, make_user: Any, login: Any, role: str) -> None:
    login(
        make_user(
            role,
            organisation="Age UK" if role == "partner" else None,
            ward_code="E05013736" if role == "councillor" else None,
        )
    )
    for url in (
        "/coordinator/maps",
        "/coordinator/maps/export.html?layer=gap",
        "/coordinator/maps/export.geojson?layer=gap",
    ):
        assert client.get(url).status_code == 403, url


def test_signed_out_people_are_sent_to_sign_in(client: Any) -> None:
    response = client.get("/coordinator/maps")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_map_page_shows_map_legend_table_and_downloads(
    coordinator: Any, make_request: Any, hf_postcode: str, db: Any
) -> None:
    requests_for_people(make_request, 5, hf_postcode, per_person=2)
    response = coordinator.get("/coordinator/maps")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Open requests for help" in html and "Key: Open requests" in html and "All dates" in html
    assert 'id="map-table"' in html and '<td class="govuk-table__cell govuk-table__cell--numeric">10</td>' in html
    assert "Hammersmith and Fulham" in html
    assert 'href="/assets/leaflet/leaflet.css"' in html and 'src="/assets/leaflet/leaflet.js"' in html
    assert "user-scalable=no" not in html  # folium's viewport tag would stop people zooming the page
    assert "/coordinator/maps/export.geojson?layer=open-requests" in html
    assert 'href="/coordinator/maps"' in html  # the "Maps" navigation item


def test_page_says_which_dates_and_type_are_shown(coordinator: Any, make_request: Any, hf_postcode: str) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    response = coordinator.get(
        "/coordinator/maps?layer=unmet-need&date_from=1&date_from=3&date_from=2020"
        "&date_to=&date_to=&date_to=&type=shopping&detail=shareable"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Unmet need" in html and "Since 1 March 2020; request types: shopping" in html
    assert "layer=unmet-need&amp;from=2020-03-01&amp;type=shopping" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("layer=nothing", "Choose a map layer from the list"),
        ("date_from=31&date_from=2&date_from=2020", "The start date must be a real date"),
        ("date_from=1&date_from=1&date_from=1500", "The start date must be in 2000 or later"),
        ("date_to=1&date_to=1&date_to=2999", "The end date must be today or in the past"),
        (
            "date_from=5&date_from=3&date_from=2020&date_to=1&date_to=3&date_to=2020",
            "The end date must be the same as or after the start date",
        ),
        ("date_from=abc", "The start date must be a real date"),
        ("type=pizza", "Choose a request type from the list"),
        ("detail=everything", "Choose shareable or internal detail"),
    ],
)
def test_bad_filters_are_shown_as_errors_not_a_crash(coordinator: Any, query: str, message: str) -> None:
    response = coordinator.get(f"/coordinator/maps?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html and message in html
    assert "<title>Error: " in html


def test_bad_export_filters_are_a_400_page(coordinator: Any) -> None:
    response = coordinator.get("/coordinator/maps/export.geojson?layer=gap&from=2020-02-31")
    assert response.status_code == 400
    assert "The start date must be a real date" in response.get_data(as_text=True)


def test_a_miss_starts_one_job_and_shows_a_self_refreshing_page(
    coordinator: Any, make_request: Any, hf_postcode: str, db: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    monkeypatch.setitem(app.config, "HEATMAP_INLINE_MAX_ROWS", -1)
    monkeypatch.setattr(app.extensions["can_queue"], "push", lambda job_id, attempt=1: None)  # never runs
    first = coordinator.get("/coordinator/maps?layer=gap")
    assert first.status_code == 202
    html = first.get_data(as_text=True)
    assert "The map is being prepared" in html and '<meta http-equiv="refresh" content="2">' in html
    job = db.session.scalars(select(Job).where(Job.name == "render_heatmap")).one()
    assert f'href="/jobs/{job.id}"' in html
    assert all(isinstance(v, int | None) for v in job.args.values())  # ids and numbers only
    again = coordinator.get("/coordinator/maps?layer=gap")
    assert again.status_code == 202 and jobs(db) == 1  # the pending job is reused


def test_cache_hit_does_not_rebuild(
    coordinator: Any, make_request: Any, hf_postcode: str, db: Any, via_job: None, map_cache: Path
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    assert coordinator.get("/coordinator/maps").status_code == 202
    assert jobs(db) == 1
    shown = coordinator.get("/coordinator/maps")
    assert shown.status_code == 200 and "Open requests for help" in shown.get_data(as_text=True)
    page_file = next(map_cache.glob("*.page.json"))
    before = {p.name: p.stat().st_mtime_ns for p in map_cache.iterdir()}
    for _ in range(3):
        assert coordinator.get("/coordinator/maps").status_code == 200
    assert jobs(db) == 1
    assert {p.name: p.stat().st_mtime_ns for p in map_cache.iterdir()} == before
    assert page_file.exists()


def test_a_data_change_invalidates_the_cache(
    coordinator: Any, make_request: Any, hf_postcode: str, db: Any, via_job: None
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    coordinator.get("/coordinator/maps")
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">5</td>' in coordinator.get(
        "/coordinator/maps"
    ).get_data(as_text=True)
    requests_for_people(make_request, 1, hf_postcode, tag="late")
    assert coordinator.get("/coordinator/maps").status_code == 202
    assert jobs(db) == 2
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">6</td>' in coordinator.get(
        "/coordinator/maps"
    ).get_data(as_text=True)


def test_exports_are_always_shareable_and_k_anonymous(
    coordinator: Any, make_request: Any, hf_postcode: str, postcode_index: Path
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    requests_for_people(make_request, 3, postcode_in(postcode_index, "E09000020"), tag="ken")
    internal = coordinator.get("/coordinator/maps?layer=open-requests&detail=internal")
    assert internal.status_code == 200 and "Do not share this page" in internal.get_data(as_text=True)
    response = coordinator.get("/coordinator/maps/export.geojson?layer=open-requests&detail=internal")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["metadata"]["k"] == 5 and "resolution 8" in data["metadata"]["zones"]
    props = [f["properties"] for f in data["features"]]
    assert sorted(p.get("count", 0) for p in props) == [0, 5]
    assert all("count" not in p for p in props if p.get("suppressed"))
    page = coordinator.get("/coordinator/maps/export.html?layer=open-requests")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Open requests for help" in text and "/assets/" not in text  # Leaflet is embedded: works offline


def test_tile_server_origin_is_allowed_by_the_page_csp(
    coordinator: Any, make_request: Any, hf_postcode: str, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example.gov.uk/{z}/{x}/{y}.png")
    response = coordinator.get("/coordinator/maps?layer=shielded")
    assert response.status_code == 200
    assert "img-src 'self' data: https://tiles.example.gov.uk" in response.headers["Content-Security-Policy"]
    assert "tiles.example.gov.uk" in response.get_data(as_text=True)
