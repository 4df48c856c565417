"""Each heat-map layer built from real rows on PostgreSQL: what is counted, what is hidden, what filters do."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import current_app
from maps_helpers import deliver, postcode_in, requests_for_people, set_fields

from can_crm.models.base import utcnow
from can_crm.services.common import times
from can_crm.services.maps import data as heatmap_data
from can_crm.services.maps import render as heatmaps
from can_crm.services.maps.data import MapFilters


@pytest.fixture(autouse=True)
def map_cache(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_DIR", str(tmp_path / "heatmaps"))
    return tmp_path / "heatmaps"


def built(layer: str, k: int = 5, **kwargs: Any) -> Any:
    filters = MapFilters(layer, k=k, **kwargs)
    return heatmap_data.build(filters, heatmap_data.load_inputs(filters))


def published(hm: Any) -> list[tuple[int, float]]:
    return sorted((int(p), float(v)) for p, v, s in zip(hm.people, hm.value, hm.suppressed, strict=True) if not s)


def test_open_requests_count_requests_but_k_counts_distinct_residents(
    db: Any, make_request: Any, hf_postcode: str
) -> None:
    requests_for_people(make_request, 5, hf_postcode, per_person=2)
    hm = built("open-requests")
    assert published(hm) == [(5, 10.0)]


def test_a_cell_with_fewer_than_k_residents_is_suppressed(
    db: Any, make_request: Any, hf_postcode: str, postcode_index: Path
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    # Four residents with many requests each elsewhere: still fewer than k people.
    requests_for_people(make_request, 4, postcode_in(postcode_index, "E09000020"), per_person=3, tag="kay")
    hm = built("open-requests")
    assert len(hm) == 2
    assert published(hm) == [(5, 5.0)]
    hidden = hm.suppressed.nonzero()[0]
    assert len(hidden) == 1 and hm.people[hidden[0]] == 0 and np.isnan(hm.value[hidden[0]])


def test_closed_requests_are_not_open(db: Any, make_request: Any, hf_postcode: str) -> None:
    made = requests_for_people(make_request, 6, hf_postcode)
    set_fields(made[:1], status="cancelled")
    assert published(built("open-requests")) == [(5, 5.0)]


def test_unmet_need_counts_only_open_overdue_requests(db: Any, make_request: Any, hf_postcode: str) -> None:
    made = requests_for_people(make_request, 7, hf_postcode)
    set_fields(made[:6], sla_due_at=utcnow() - timedelta(hours=1))
    set_fields(made[5:6], status="closed")
    assert published(built("unmet-need")) == [(5, 5.0)]
    assert published(built("unmet-need", k=6)) == []


def test_shielded_layer_counts_shielded_residents_only(db: Any, make_request: Any, hf_postcode: str) -> None:
    requests_for_people(make_request, 5, hf_postcode, shielding=True)
    requests_for_people(make_request, 3, hf_postcode, shielding=False, tag="nope")
    assert published(built("shielded")) == [(5, 5.0)]


def test_volunteer_supply_sums_spare_capacity_of_available_volunteers(
    db: Any, make_volunteer: Any, make_request: Any, hf_postcode: str
) -> None:
    vols = [make_volunteer(name=f"Vol {'abcdefg'[i]}", capacity="3") for i in range(6)]
    make_volunteer(name="Paused", capacity="3", paused_until=(times.today() + timedelta(days=5)).isoformat())
    make_volunteer(name="Stopped", capacity="3", active=False)
    busy = make_request()
    set_fields([busy], volunteer_id=vols[0].id, status="accepted")
    # 6 available volunteers with 3 each, one of them busy with one task: 17 spare.
    assert published(built("volunteer-supply")) == [(6, 17.0)]


def test_gap_is_need_minus_capacity_in_reach(db: Any, make_volunteer: Any, make_request: Any, hf_postcode: str) -> None:
    requests_for_people(make_request, 5, hf_postcode, per_person=2)
    for i in range(5):
        make_volunteer(name=f"Vol {'abcdefg'[i]}", capacity="1", max_km="5")
    assert published(built("gap")) == [(5, 5.0)]  # 10 requests, 5 tasks of capacity in reach


def test_gap_hides_a_cell_reached_by_fewer_than_k_volunteers(
    db: Any, make_volunteer: Any, make_request: Any, hf_postcode: str
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    make_volunteer(name="Only one", capacity="4")
    hm = built("gap")
    assert hm.suppressed.all()


def test_time_to_delivery_is_the_median_hours(db: Any, make_request: Any, hf_postcode: str) -> None:
    made = requests_for_people(make_request, 6, hf_postcode)
    deliver(made[:5], [2, 4, 6, 8, 10])
    assert published(built("time-to-delivery")) == [(5, 6.0)]


def test_date_range_and_type_filters_apply_to_requests(db: Any, make_request: Any, hf_postcode: str) -> None:
    old = requests_for_people(make_request, 5, hf_postcode, tag="old")
    recent = requests_for_people(make_request, 5, hf_postcode, tag="new", kind="prescription")
    set_fields(old, created_at=utcnow() - timedelta(days=40))
    today = times.today()
    assert published(built("open-requests")) == [(10, 10.0)]
    assert published(built("open-requests", start=today - timedelta(days=7))) == [(5, 5.0)]
    assert published(built("open-requests", end=today - timedelta(days=30))) == [(5, 5.0)]
    assert published(built("open-requests", request_type="shopping")) == [(5, 5.0)]
    assert published(built("open-requests", request_type="food_parcel")) == []
    assert recent


def test_internal_detail_uses_finer_cells_than_shareable(db: Any, make_request: Any, hf_postcode: str) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    assert built("open-requests").zoning.resolution == 8
    internal = heatmap_data.build(
        MapFilters("open-requests", audience="internal"), heatmap_data.load_inputs(MapFilters("open-requests"))
    )
    assert internal.zoning.resolution == 9


def test_rendered_exports_never_publish_a_cell_under_k(
    db: Any, make_request: Any, hf_postcode: str, postcode_index: Path, map_cache: Path
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    requests_for_people(make_request, 2, postcode_in(postcode_index, "E09000033"), tag="west")
    rendered = heatmaps.render_to_cache(MapFilters("open-requests", audience="internal"))
    geojson = next(p for p in rendered.files if p.suffix == ".geojson")
    data = json.loads(geojson.read_text())
    assert data["metadata"]["k"] == 5 and "resolution 8" in data["metadata"]["zones"]
    counts = [f["properties"].get("count") for f in data["features"]]
    assert counts.count(None) == 1 and [c for c in counts if c is not None] == [5]
    for feature in data["features"]:
        props = feature["properties"]
        if props.get("suppressed"):
            assert "count" not in props and props["value"] is None
        else:
            assert props["count"] >= 5
    assert not list(map_cache.glob(".*.tmp"))  # written atomically: no temp files left


def test_loading_never_selects_names_or_addresses(db: Any, make_request: Any, hf_postcode: str) -> None:
    from sqlalchemy import event

    from can_crm.extensions import db as _db

    requests_for_people(make_request, 5, hf_postcode)
    current_app.extensions["can_queue"].wait()  # the "request received" messages: their SQL is not the map's
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for layer in heatmap_data.LAYER_KEYS:
            heatmap_data.load_inputs(MapFilters(layer))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    selected = " ".join(s.split(" FROM ")[0] for s in statements).lower()
    for column in ("name", "address_line1", "phone", "email", "postcode", "details", "notes"):
        assert f".{column}" not in selected, column


def test_shared_maps_use_ward_boundaries_when_the_council_supplies_them(
    app: Any, db: Any, make_request: Any, postcode_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo.directory import PostcodeDirectory

    directory = PostcodeDirectory.load(postcode_index)
    hf = sorted(pc for pc in directory if directory.geocode(pc).authority_gss == "E09000013")
    north, south = hf[0], next(pc for pc in hf if abs(directory.geocode(pc).lat - directory.geocode(hf[0]).lat) > 0.01)
    cut = (directory.geocode(north).lat + directory.geocode(south).lat) / 2
    box = lambda lo, hi: [[[-0.30, lo], [-0.10, lo], [-0.10, hi], [-0.30, hi], [-0.30, lo]]]  # noqa: E731
    wards = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"WD22CD": "E05000001", "WD22NM": "Low Ward"},
                "geometry": {"type": "Polygon", "coordinates": box(51.40, cut)},
            },
            {
                "type": "Feature",
                "properties": {"WD22CD": "E05000002", "WD22NM": "High Ward"},
                "geometry": {"type": "Polygon", "coordinates": box(cut, 51.60)},
            },
        ],
    }
    path = tmp_path / "wards.geojson"
    path.write_text(json.dumps(wards))
    monkeypatch.setitem(app.config, "WARD_BOUNDARIES_FILE", str(path))
    monkeypatch.delitem(app.extensions, "can_boundaries.WARD_BOUNDARIES_FILE", raising=False)
    requests_for_people(make_request, 5, north)
    requests_for_people(make_request, 6, south, tag="south")
    hm = built("open-requests")
    codes = {hm.zoning.zone_code(int(z)) for z, s in zip(hm.zones, hm.suppressed, strict=True) if not s}
    assert codes == {"E05000001", "E05000002"}
    assert sorted(published(hm)) == [(5, 5.0), (6, 6.0)]
    internal = built("open-requests", audience="internal")
    assert internal.zoning.label != hm.zoning.label  # coordinators' internal view keeps fine hexagons
