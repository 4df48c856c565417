from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import HAMMERSMITH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.boundaries import Boundaries
from geo.cells import cell_int
from geo.export import to_geojson
from geo.layers import LAYERS, Audience, LayerInput, LayerSpec, build_heatmap, count_points, register_layer
from geo.records import Period, PointRecord, PointSet, VolunteerRecord, VolunteerSet
from geo.zones import HexZoning, PolygonZoning

# A street corner in Hammersmith and points a few metres from it: all in one resolution-8 cell.
CORNER = (51.4927, -0.2339)


def near(n: int, spread: float = 0.0003) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(n)
    return (CORNER[0] + rng.uniform(-spread, spread, n)).tolist(), (
        CORNER[1] + rng.uniform(-spread, spread, n)
    ).tolist()


def test_registry_has_the_six_layers() -> None:
    assert {"open-requests", "unmet-need", "shielded", "volunteer-supply", "gap", "time-to-delivery"} <= set(LAYERS)


def test_adding_a_layer_is_one_registration() -> None:
    spec = register_layer(
        LayerSpec("test-help-did-not-arrive", "Help did not arrive", "Reports", "one per report", count_points)
    )
    try:
        lat, lon = near(6)
        hm = build_heatmap("test-help-did-not-arrive", LayerInput(PointSet.from_arrays(lat, lon, range(6))))
        assert hm.layer is spec and hm.people.tolist() == [6]
        with pytest.raises(ValueError):
            register_layer(spec)
    finally:
        del LAYERS["test-help-did-not-arrive"]


def test_cell_with_fewer_than_k_people_is_suppressed_even_with_many_requests() -> None:
    lat, lon = near(40)
    people = [i % 4 for i in range(40)]  # 40 requests from 4 residents
    hm = build_heatmap("open-requests", LayerInput(PointSet.from_arrays(lat, lon, people)), k=5)
    assert hm.suppressed.tolist() == [True] and np.isnan(hm.value[0]) and hm.people.tolist() == [0]
    hm = build_heatmap("open-requests", LayerInput(PointSet.from_arrays(lat, lon, people)), k=4)
    assert hm.suppressed.tolist() == [False] and hm.value.tolist() == [40.0] and hm.people.tolist() == [4]


@st.composite
def point_sets(draw: st.DrawFn) -> tuple[PointSet, int]:
    n = draw(st.integers(0, 120))
    # A handful of clusters so cells hold 0..many people; people may repeat across cells.
    centres = draw(st.lists(st.tuples(st.floats(51.45, 51.55), st.floats(-0.3, -0.1)), min_size=1, max_size=6))
    idx = draw(st.lists(st.integers(0, len(centres) - 1), min_size=n, max_size=n))
    jitter = draw(st.lists(st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01)), min_size=n, max_size=n))
    people = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    lat = [centres[i][0] + j[0] for i, j in zip(idx, jitter, strict=True)]
    lon = [centres[i][1] + j[1] for i, j in zip(idx, jitter, strict=True)]
    k = draw(st.integers(2, 8))
    return PointSet.from_arrays(lat, lon, people, [1.0 + (p % 3) for p in people]), k


@given(point_sets(), st.sampled_from(["open-requests", "shielded", "time-to-delivery", "gap"]), st.sampled_from([7, 8]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_published_cell_ever_has_fewer_than_k_people(data: tuple[PointSet, int], layer: str, res: int) -> None:
    points, k = data
    volunteers = VolunteerSet.from_arrays(
        points.lat[:3],
        points.lon[:3],
        range(min(3, len(points))),
        [2.0] * min(3, len(points)),
        [1.0] * min(3, len(points)),
    )
    hm = build_heatmap(layer, LayerInput(points, volunteers), k=k, zoning=HexZoning(res))
    cells = HexZoning(res).assign(points.lat, points.lon)
    for zone, hidden, people, value in zip(hm.zones, hm.suppressed, hm.people, hm.value, strict=True):
        truth = len(set(points.person[cells == zone].tolist()))  # recounted independently
        if not hidden:
            assert truth >= k and people == truth
        else:
            assert people == 0 and np.isnan(value)
    for feature in to_geojson(hm)["features"]:
        props = feature["properties"]
        if props.get("suppressed"):
            assert "count" not in props and props["value"] is None
        else:
            assert isinstance(props["count"], int) and props["count"] >= k


def test_shareable_map_refuses_fine_cells_and_k_below_two() -> None:
    lat, lon = near(10)
    inputs = LayerInput(PointSet.from_arrays(lat, lon, range(10)))
    with pytest.raises(ValueError):
        build_heatmap("open-requests", inputs, zoning=HexZoning(9))
    with pytest.raises(ValueError):
        build_heatmap("open-requests", inputs, k=1)
    internal = build_heatmap("open-requests", inputs, zoning=HexZoning(9), k=1, audience=Audience.INTERNAL)
    assert internal.people.sum() >= 10 and not internal.suppressed.any()


def test_time_to_delivery_is_the_median_hours() -> None:
    lat, lon = near(5)
    hours = [1.0, 2.0, 10.0, 30.0, 100.0]
    hm = build_heatmap("time-to-delivery", LayerInput(PointSet.from_arrays(lat, lon, range(5), hours)))
    assert hm.value.tolist() == [10.0]
    hm = build_heatmap(
        "time-to-delivery",
        LayerInput(PointSet.from_arrays(lat + lat[:1], lon + lon[:1], [*range(5), 9], [*hours, 3.0])),
    )
    assert hm.value.tolist() == [6.5]


def test_gap_subtracts_capacity_of_volunteers_who_can_reach_the_cell() -> None:
    lat, lon = near(8)
    need = PointSet.from_arrays(lat, lon, range(8))
    # Five volunteers at the corner with capacity 1 each and 2 km reach; one far away (~11 km).
    vols = VolunteerSet.from_records(
        [VolunteerRecord(CORNER[0], CORNER[1], f"v{i}", 1.0, 2.0) for i in range(5)]
        + [VolunteerRecord(CORNER[0] + 0.1, CORNER[1], "far", 50.0, 2.0)]
    )
    hm = build_heatmap("gap", LayerInput(need, vols))
    assert hm.value.tolist() == [3.0]
    few = VolunteerSet.from_records([VolunteerRecord(CORNER[0], CORNER[1], "v", 1.0, 2.0)])
    assert build_heatmap("gap", LayerInput(need, few)).suppressed.tolist() == [True]
    assert build_heatmap("gap", LayerInput(need, few), k=1, audience=Audience.INTERNAL).value.tolist() == [7.0]
    none = VolunteerSet.from_records([])
    assert build_heatmap("gap", LayerInput(need, none)).value.tolist() == [8.0]


def test_volunteer_supply_sums_capacity() -> None:
    lat, lon = near(6)
    vols = VolunteerSet.from_arrays(lat, lon, range(6), [1, 2, 3, 4, 5, 6], [1.0] * 6)
    assert build_heatmap("volunteer-supply", LayerInput(volunteers=vols)).value.tolist() == [21.0]


def test_date_and_request_type_filters() -> None:
    lat, lon = near(12)
    records = [
        PointRecord(a, b, i, when=date(2025, 1, 1 + i), category="shopping" if i % 2 else "prescription")
        for i, (a, b) in enumerate(zip(lat, lon, strict=True))
    ]
    points = PointSet.from_records(records)
    hm = build_heatmap(
        "open-requests",
        LayerInput(points),
        k=2,
        period=Period(date(2025, 1, 3), date(2025, 1, 10)),
        request_types={"shopping"},
    )
    assert hm.value.tolist() == [4.0]  # days 4, 6, 8, 10 (i = 3, 5, 7, 9)
    assert "3 January 2025 to 10 January 2025" in hm.describe() and "shopping" in hm.describe()


def test_records_reject_bad_coordinates() -> None:
    with pytest.raises(ValueError):
        PointSet.from_arrays([51.5], [float("inf")], [1])
    with pytest.raises(ValueError):
        PointSet.from_arrays([151.5], [0.0], [1])
    with pytest.raises(ValueError):
        PointSet.from_arrays([51.5, 51.6], [0.0], [1, 2])


def test_geojson_has_one_feature_per_cell(hf_points: tuple[np.ndarray, np.ndarray]) -> None:
    lat, lon = hf_points
    people = np.arange(lat.shape[0]) // 2
    hm = build_heatmap("open-requests", LayerInput(PointSet.from_arrays(lat, lon, people)))
    doc = to_geojson(hm)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(hm)
    assert doc["metadata"]["layer"] == "open-requests" and doc["metadata"]["k"] == 5
    seen = set()
    for f in doc["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Polygon"
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 7
        props = f["properties"]
        cell_int(props["zone"])  # a valid H3 cell
        seen.add(props["zone"])
        assert ("count" in props) != bool(props.get("suppressed"))
    assert len(seen) == len(hm)
    # Each resident has two requests at random places, so counts (distinct people per cell) sum to
    # at most one per request and at least the 1,000 residents minus the hidden cells.
    published = sum(f["properties"].get("count", 0) for f in doc["features"])
    assert 0 < published <= lat.shape[0]
    assert all(
        f["properties"]["value"] >= f["properties"]["count"] for f in doc["features"] if "count" in f["properties"]
    )


def test_ward_aggregation_uses_polygons(london: Boundaries, hf_points: tuple[np.ndarray, np.ndarray]) -> None:
    lat, lon = hf_points
    zoning = PolygonZoning(london.subset([HAMMERSMITH, "E09000020"]), label="boroughs")
    hm = build_heatmap("shielded", LayerInput(PointSet.from_arrays(lat, lon, range(lat.shape[0]))), zoning=zoning)
    doc = to_geojson(hm)
    assert [f["properties"]["zone"] for f in doc["features"]] == [HAMMERSMITH]
    assert doc["features"][0]["properties"]["count"] == lat.shape[0]
    assert doc["features"][0]["properties"]["name"] == "Hammersmith and Fulham"
