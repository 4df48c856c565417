"""``python -m geo bench``: aggregation + rendering against Folium's raw-point HeatMap, and
postcode directory speed. Prints one JSON line."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import folium
import numpy as np
import shapely
from folium.plugins import HeatMap

from .boundaries import Boundaries
from .directory import PostcodeDirectory, import_onspd
from .layers import LAYERS, LayerInput, build_heatmap
from .onspd_gen import make_onspd, random_points_in
from .records import PointSet, VolunteerSet
from .render import MapOptions, render_page, render_standalone


def _time(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _lookups(boundaries: Boundaries, rows: int, seed: int, workdir: Path) -> dict[str, Any]:
    per_borough = max(1, -(-rows // len(boundaries)))
    csv_path, index_path = workdir / "onspd.csv", workdir / "onspd.npz"
    written = make_onspd(boundaries, csv_path, per_borough=per_borough, seed=seed)
    import_s, report = _time(lambda: import_onspd(csv_path, index_path))
    load_s, directory = _time(lambda: PostcodeDirectory.load(index_path))
    rng = np.random.default_rng(seed)
    known = list(directory)
    sample = [known[i] for i in rng.integers(0, len(known), 100_000).tolist()]
    raw = [pc.lower().replace(" ", "") for pc in sample]
    geocode = directory.geocode
    fast_s, _ = _time(lambda: [geocode(pc) for pc in sample])
    raw_s, _ = _time(lambda: [geocode(pc) for pc in raw])
    return {
        "postcode_lookups_per_s": round(len(sample) / fast_s),
        "postcode_lookups_unnormalised_per_s": round(len(raw) / raw_s),
        "onspd_rows": written,
        "onspd_import_s": round(import_s, 3),
        "onspd_imported": report.imported,
        "index_load_s": round(load_s, 3),
    }


def run(
    points: int,
    *,
    boundaries: Boundaries,
    leaflet_dir: Path,
    seed: int = 0,
    onspd_rows: int = 20_000,
    all_layers: bool = True,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    area = shapely.union_all(np.asarray(boundaries.frame.geometry.values, dtype=object))
    lat, lon = random_points_in(area, points, rng)
    person = rng.integers(0, max(1, int(points * 0.8)), points)  # some residents ask more than once
    n_vol = max(1, points // 10)
    vlat, vlon = random_points_in(area, n_vol, rng)
    volunteers = VolunteerSet.from_arrays(
        vlat, vlon, np.arange(n_vol), rng.integers(1, 6, n_vol), rng.uniform(0.5, 3.0, n_vol)
    )
    page = MapOptions(asset_base_url="/static/leaflet", leaflet_dir=leaflet_dir, outlines=boundaries)

    def open_requests() -> str:
        hm = build_heatmap("open-requests", LayerInput(PointSet.from_arrays(lat, lon, person)))
        return render_page(hm, page)

    render_page_s, html = _time(open_requests)
    hm = build_heatmap("open-requests", LayerInput(PointSet.from_arrays(lat, lon, person)))
    standalone_s, standalone = _time(lambda: render_standalone(hm, page))

    def baseline() -> str:
        m = folium.Map(location=[51.5, -0.12], zoom_start=10, tiles=None)
        HeatMap(np.column_stack((lat, lon)).tolist()).add_to(m)  # type: ignore[no-untyped-call]
        return str(m.get_root().render())

    baseline_s, baseline_html = _time(baseline)
    result: dict[str, Any] = {
        "points": points,
        "render_s": round(render_page_s, 3),
        "html_bytes": len(html.encode()),
        "standalone_render_s": round(standalone_s, 3),
        "standalone_html_bytes": len(standalone.encode()),
        "baseline_render_s": round(baseline_s, 3),
        "baseline_html_bytes": len(baseline_html.encode()),
        "cells": len(hm),
        "suppressed_cells": int(hm.suppressed.sum()),
    }
    if all_layers:
        hours = rng.gamma(2.0, 12.0, points)
        layers: dict[str, Any] = {}
        for key in LAYERS:
            pts = PointSet.from_arrays(lat, lon, person, hours if key == "time-to-delivery" else None)

            def one(key: str = key, pts: PointSet = pts) -> str:
                return render_page(build_heatmap(key, LayerInput(pts, volunteers)), page)

            seconds, out = _time(one)
            layers[key] = {"render_s": round(seconds, 3), "html_bytes": len(out.encode())}
        result["layers"] = layers
    if onspd_rows > 0:
        with tempfile.TemporaryDirectory() as tmp:
            result.update(_lookups(boundaries, onspd_rows, seed, Path(tmp)))
    return result
