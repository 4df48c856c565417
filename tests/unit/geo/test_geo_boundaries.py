from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from conftest import HAMMERSMITH, KENSINGTON
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.boundaries import Authority, Boundaries, BoundaryFormatError, OutOfArea
from geo.cells import FINE_RESOLUTION, MAP_RESOLUTION, cell_int, cells_for, h3_cells, h3_cells_array, parents

# Well-known places: Hammersmith Town Hall, Kensington Town Hall, a point in the North Sea.
TOWN_HALL_HF = (51.4927, -0.2339)
TOWN_HALL_KC = (51.5017, -0.1948)
NORTH_SEA = (53.0, 2.5)


def test_authority_at_names_the_responsible_borough(london: Boundaries) -> None:
    assert london.authority_at(*TOWN_HALL_HF) == Authority(HAMMERSMITH, "Hammersmith and Fulham")
    assert london.authority_at(*TOWN_HALL_KC) == (KENSINGTON, "Kensington and Chelsea")
    assert london.authority_at(*NORTH_SEA) is None
    assert len(london) == 33


def test_codes_at_is_vectorised(london: Boundaries) -> None:
    lats, lons = zip(TOWN_HALL_HF, TOWN_HALL_KC, NORTH_SEA, strict=True)
    assert london.codes_at(lats, lons) == [HAMMERSMITH, KENSINGTON, None]
    assert london.codes_at([], []) == []


def test_out_of_area_names_who_is_responsible(london: Boundaries) -> None:
    assert london.out_of_area(*TOWN_HALL_HF, home_gss=HAMMERSMITH) is None
    assert london.out_of_area(*TOWN_HALL_KC, home_gss=HAMMERSMITH) == OutOfArea(
        HAMMERSMITH, Authority(KENSINGTON, "Kensington and Chelsea")
    )
    assert london.out_of_area(*NORTH_SEA, home_gss=HAMMERSMITH) == OutOfArea(HAMMERSMITH, None)
    with pytest.raises(ValueError):
        london.out_of_area(*TOWN_HALL_HF, home_gss="E09999999")


def test_neighbours_of_hammersmith(london: Boundaries) -> None:
    names = {a.name for a in london.neighbours(HAMMERSMITH)}
    assert {"Kensington and Chelsea", "Ealing", "Brent", "Hounslow", "Wandsworth", "Richmond upon Thames"} <= names
    assert "Bexley" not in names


@given(
    st.lists(
        st.tuples(st.floats(51.25, 51.75, allow_nan=False), st.floats(-0.6, 0.4, allow_nan=False)),
        min_size=1,
        max_size=60,
    )
)
@settings(max_examples=60, deadline=None)
def test_point_in_polygon_agrees_with_geopandas_sjoin(london: Boundaries, points: list[tuple[float, float]]) -> None:
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    frame = gpd.GeoDataFrame({"i": np.arange(len(points))}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    joined = gpd.sjoin(frame, london.frame, how="left", predicate="within").sort_values(["i", "index_right"])
    expected = joined.groupby("i")["code"].first().reindex(range(len(points)))
    got = london.codes_at(lat, lon)
    assert got == [None if isinstance(c, float) else c for c in expected.tolist()]


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")])
def test_loads_geopackage_and_shapefile_in_another_crs(
    tmp_path: Path, london: Boundaries, driver: str, suffix: str
) -> None:
    subset = london.frame[london.frame["code"].isin([HAMMERSMITH, KENSINGTON])]
    frame = subset.rename(columns={"code": "LAD23CD", "name": "LAD23NM"}).to_crs(27700)
    path = tmp_path / f"areas{suffix}"
    frame.to_file(path, driver=driver)
    loaded = Boundaries.from_file(path)
    assert loaded.authority_at(*TOWN_HALL_HF) == (HAMMERSMITH, "Hammersmith and Fulham")
    assert loaded.authority_at(*TOWN_HALL_KC) == (KENSINGTON, "Kensington and Chelsea")


def test_file_without_a_code_column_is_a_clear_error(tmp_path: Path, london: Boundaries) -> None:
    path = tmp_path / "x.geojson"
    london.frame.rename(columns={"code": "foo", "name": "bar"}).to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryFormatError, match="code column"):
        Boundaries.from_file(path)
    assert Boundaries.from_file(path, code_column="foo", name_column="bar").authority_at(*TOWN_HALL_HF) is not None
    with pytest.raises(BoundaryFormatError):
        Boundaries.from_file(tmp_path / "missing.geojson")


def test_h3_cells_gives_neighbourhood_and_map_cells() -> None:
    fine, coarse = h3_cells(*TOWN_HALL_HF)
    assert len(fine) == 15 and len(coarse) == 15
    assert int(FINE_RESOLUTION) == 9 and int(MAP_RESOLUTION) == 8
    assert parents(np.array([cell_int(fine)], dtype=np.uint64), 8)[0] == cell_int(coarse)


def test_vectorised_cells_match_scalar(hf_points: tuple[np.ndarray, np.ndarray]) -> None:
    lat, lon = hf_points[0][:200], hf_points[1][:200]
    fines, coarses = h3_cells_array(lat, lon)
    assert [h3_cells(a, b) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)] == list(
        zip(fines, coarses, strict=True)
    )
    with pytest.raises(ValueError):
        cells_for([51.5, float("nan")], [0.0, 0.0], 8)
