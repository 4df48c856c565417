from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from geo.boundaries import Boundaries
from geo.layers import Heatmap, LayerInput, build_heatmap
from geo.records import Period, PointSet
from geo.render import MapOptions, classify, render_fragment, render_page, render_standalone

TILES = "https://tiles.council.example/{z}/{x}/{y}.png"
ASSET_ATTR = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.I)


@pytest.fixture(scope="module")
def heatmap(hf_points: tuple[np.ndarray, np.ndarray]) -> Heatmap:
    lat, lon = hf_points
    points = PointSet.from_arrays(lat, lon, np.arange(lat.shape[0]), when=[date(2025, 2, 1)] * lat.shape[0])
    return build_heatmap("open-requests", LayerInput(points), period=Period(date(2025, 1, 1), date(2025, 3, 31)))


def asset_urls(html: str) -> list[str]:
    return ASSET_ATTR.findall(html)


def test_standalone_html_embeds_leaflet_and_fetches_nothing(
    heatmap: Heatmap, london: Boundaries, leaflet_dir: Path
) -> None:
    html = render_standalone(heatmap, MapOptions(leaflet_dir=leaflet_dir, outlines=london))
    assert asset_urls(html) == []
    assert "L.map(" in html and "Leaflet" in html
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg", "font-awesome", "awesome-markers"):
        assert cdn not in html


def test_page_links_assets_only_from_the_app(heatmap: Heatmap, london: Boundaries) -> None:
    html = render_page(heatmap, MapOptions(asset_base_url="/static/leaflet/", outlines=london))
    assert sorted(asset_urls(html)) == ["/static/leaflet/leaflet.css", "/static/leaflet/leaflet.js"]


def test_tile_url_is_configurable_and_the_only_remote_url(heatmap: Heatmap, leaflet_dir: Path) -> None:
    without = render_standalone(heatmap, MapOptions(leaflet_dir=leaflet_dir))
    assert "L.tileLayer" not in without
    with_tiles = render_standalone(
        heatmap, MapOptions(leaflet_dir=leaflet_dir, tile_url=TILES, tile_attribution="© Council")
    )
    assert "L.tileLayer" in with_tiles and TILES in with_tiles
    assert asset_urls(with_tiles) == []
    page = render_page(heatmap, MapOptions(asset_base_url="/static/leaflet", tile_url=TILES))
    remote = [u for u in asset_urls(page) if re.match(r"(https?:)?//", u)]
    assert remote == []


def test_title_and_legend_say_what_and_when(heatmap: Heatmap, leaflet_dir: Path, london: Boundaries) -> None:
    html = render_standalone(heatmap, MapOptions(leaflet_dir=leaflet_dir, outlines=london))
    assert "<title>Open requests for help (1 January 2025 to 31 March 2025)</title>" in html
    assert '"title":"Open requests for help"' in html
    assert "1 January 2025 to 31 March 2025" in html
    assert '"valueLabel":"Open requests"' in html and '"legend":[["#' in html
    assert "fewer than 5 people are hidden" in html


def test_title_text_is_escaped(heatmap: Heatmap, leaflet_dir: Path) -> None:
    html = render_standalone(heatmap, MapOptions(leaflet_dir=leaflet_dir, title="</script><b>x</b>"))
    assert "</script><b>" not in html
    assert "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in html


def test_suppressed_counts_never_reach_the_page(leaflet_dir: Path) -> None:
    lat = [51.4927 + i * 1e-5 for i in range(4)]
    lon = [-0.2339] * 4
    hm = build_heatmap("open-requests", LayerInput(PointSet.from_arrays(lat, lon, range(4), [7.0] * 4)))
    html = render_standalone(hm, MapOptions(leaflet_dir=leaflet_dir))
    assert '"n":[null]' in html and '"v":[null]' in html and '"c":[-1]' in html


def test_fragment_splits_head_body_and_script(heatmap: Heatmap, london: Boundaries) -> None:
    frag = render_fragment(heatmap, MapOptions(asset_base_url="/static/leaflet", outlines=london))
    assert '<script src="/static/leaflet/leaflet.js">' in frag.head
    assert 'class="folium-map"' in frag.body
    assert "L.map(" in frag.script and "<script" not in frag.script
    assert "<html" not in frag.head + frag.body + frag.script


def test_without_assets_configured_rendering_refuses(heatmap: Heatmap) -> None:
    with pytest.raises(ValueError):
        render_page(heatmap, MapOptions())


def test_classify_sequential_and_diverging() -> None:
    idx, labels = classify(np.array([1.0, 2, 3, 4, 5, 6, 100]), 6, False, 0)
    assert idx.min() == 0 and idx.max() == len(labels) - 1
    assert list(idx) == sorted(idx)
    idx, labels = classify(np.array([-10.0, -1, 0, 1, 10]), 6, True, 0)
    assert len(labels) == 6 and idx[0] == 0 and idx[-1] == 5 and idx[2] <= 2 < idx[3]
    idx, labels = classify(np.array([3.0, 3.0]), 6, False, 0)
    assert list(idx) == [0, 0] and labels == ["3"]


def test_compact_geometry_round_trips_to_within_a_metre() -> None:
    from geo.cells import cell_boundary, cells_for
    from geo.encoding import decode_rings, encode_rings

    cells = cells_for([51.49, 51.50, 51.51], [-0.23, -0.22, -0.21], 8).tolist()
    zones = [[cell_boundary(c)] for c in cells]
    decoded = decode_rings(encode_rings(zones, (51.4, -0.3)), (51.4, -0.3))
    for original, back in zip(zones, decoded, strict=True):
        assert np.abs(np.asarray(original[0]) - np.asarray(back[0])).max() <= 0.5e-5 + 1e-12
