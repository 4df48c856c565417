"""Heat maps of need and supply, the serving side: rendering and the rendered-map cache.

A map is cached on disk under a key made of the layer, the filters, the audience, k and a *data version*
(`heatmap_data.data_version`, one query). A cache hit costs that query and one file read; a miss is rendered
by the `render_heatmap` job (or inline when the database is small), see `can_crm.jobs.handlers.maps`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import JobState
from can_crm.models.job import Job
from can_crm.services.common import areas
from can_crm.services.common.jobs import start_job
from can_crm.services.maps.data import (
    MAX_CACHE_FILES,
    SHAREABLE,
    TABLE_ROWS,
    MapFilters,
    build,
    data_version,
    load_inputs,
    rows_in,
)

log = logging.getLogger(__name__)


def cache_key(filters: MapFilters, version: list[Any]) -> str:
    config = current_app.config
    material = {
        "v": 2,
        "filters": {**filters.query_args(), "audience": filters.audience, "k": filters.effective_k()},
        "data": version,
        "tiles": config.get("MAP_TILE_URL"),
        "boundaries": str(config.get("BOUNDARIES_FILE")),
        "wards": str(config.get("WARD_BOUNDARIES_FILE")),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:40]


def key_number(key: str) -> int:
    """The key as a number that fits a job argument (60 bits: ample to tell pending renders apart)."""
    return int(key[:15], 16)


# -- loading the inputs ----------------------------------------------------------------------------------


# -- rendering and the cache ----------------------------------------------------------------------------

ASSET_PLACEHOLDER = "__CAN_LEAFLET_ASSETS__"


def cache_dir() -> Path:
    folder = Path(current_app.config.get("HEATMAP_CACHE_DIR") or Path(current_app.instance_path) / "heatmaps")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_atomic(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(folder: Path) -> None:
    # Another render (a job, another worker) may be writing or pruning here at the same moment: its temporary
    # files are not ours to count, and a file gone between listing and stat is simply gone (was a 500).
    dated: list[tuple[float, Path]] = []
    for path in folder.glob("*.*"):
        if path.name.startswith("."):
            continue
        try:
            dated.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            continue
    dated.sort()
    for _, old in dated[: max(0, len(dated) - MAX_CACHE_FILES)]:
        old.unlink(missing_ok=True)


def _options(title: str | None = None, *, for_page: bool) -> Any:
    boundaries = areas.boundaries
    from geo import MapOptions  # lazy: geo loads folium/geopandas

    config = current_app.config
    leaflet_dir = Path(config["ASSETS_DIR"]) / "leaflet" / "dist"
    return MapOptions(
        tile_url=config.get("MAP_TILE_URL") or None,
        tile_attribution=config.get("MAP_TILE_ATTRIBUTION") or "",
        asset_base_url=ASSET_PLACEHOLDER if for_page else None,
        leaflet_dir=leaflet_dir,
        outlines=boundaries(),
        title=title,
        height="480px",
    )


_DROP_STYLE = re.compile(r"<style>(?:(?!</style>).)*?(?:html,\s*body|#map\s*\{)(?:(?!</style>).)*?</style>", re.S)
_META = re.compile(r"<meta[^>]*>", re.S)


def _page_head(head: str) -> str:
    """Folium writes a whole document's head: its viewport tag (no zoom: fails WCAG) and full-page styles
    would break the GOV.UK page, so only the map's own styles and scripts are kept."""
    return _META.sub("", _DROP_STYLE.sub("", head)).strip()


def _area_names(hm: Any, zones: list[int]) -> list[str]:
    boundaries = areas.boundaries

    found = boundaries()
    if found is None or not zones:
        return ["" for _ in zones]
    centres = hm.zoning.centres(np.asarray(zones, dtype=np.int64))
    codes = found.codes_at(centres[:, 0], centres[:, 1])
    return [found.authority(c).name if c else "Outside the loaded boundaries" for c in codes]


def page_payload(filters: MapFilters, hm: Any, points: int) -> dict[str, Any]:
    """Everything the page shows, as JSON-able data: map pieces, legend, and the table alternative."""
    from geo import render_fragment  # lazy: geo loads folium/geopandas
    from geo.render import classify  # lazy: geo loads folium/geopandas

    spec = hm.layer
    fragment = render_fragment(hm, _options(for_page=True))
    published = hm.published
    values = hm.value[published]
    _, labels = classify(values, len(spec.palette), spec.diverging, spec.value_decimals)
    palette = list(spec.palette)
    if not spec.diverging and len(labels) < len(palette):
        palette = palette[len(palette) - len(labels) :]
    order = [int(i) for i in np.argsort(-np.nan_to_num(hm.value, nan=-np.inf), kind="stable") if published[i]]
    top = order[:TABLE_ROWS]
    zones = [int(hm.zones[i]) for i in top]
    names = _area_names(hm, zones)
    decimals = spec.value_decimals
    table = [
        {
            "zone": hm.zoning.zone_code(zone),
            "area": name,
            "people": int(hm.people[i]),
            "value": f"{float(hm.value[i]):,.{decimals}f}",
        }
        for i, zone, name in zip(top, zones, names, strict=True)
    ]
    return {
        "head": _page_head(fragment.head),
        "body": fragment.body,
        "script": fragment.script,
        "title": spec.title,
        "subtitle": hm.describe(),
        "zones_label": hm.zoning.label,
        "value_label": spec.value_label,
        "legend": [[palette[i], labels[i]] for i in range(len(labels))],
        "hidden_text": f"Fewer than {hm.k} people: hidden" if bool(hm.suppressed.any()) else None,
        "cells": len(hm),
        "published": int(published.sum()),
        "suppressed": int(hm.suppressed.sum()),
        "points": points,
        "k": hm.k,
        "audience": filters.audience,
        "table": table,
        "generated_at": utcnow().isoformat(timespec="seconds"),
    }


def _points_in(inputs: Any) -> int:
    total = len(inputs.points) if inputs.points is not None else 0
    return total or (len(inputs.volunteers) if inputs.volunteers is not None else 0)


@dataclass
class Rendered:
    key: str
    files: list[Path] = field(default_factory=list)
    cells: int = 0
    points: int = 0


def render_to_cache(filters: MapFilters, now: datetime | None = None) -> Rendered:
    """Load, aggregate and render one map and its shareable exports; store them under the current key.

    Idempotent: the files are replaced atomically, so a second run (at-least-once jobs) only rewrites them."""
    from geo import render_standalone, to_geojson_str  # lazy: geo loads folium/geopandas

    now = now or utcnow()
    version = data_version(filters, now)
    inputs = load_inputs(filters, now)
    points = _points_in(inputs)
    folder = cache_dir()
    hm = build(filters, inputs)
    key = cache_key(filters, version)
    out = Rendered(key, cells=len(hm), points=points)
    _write_atomic(folder / f"{key}.page.json", json.dumps(page_payload(filters, hm, points)))
    out.files.append(folder / f"{key}.page.json")
    shareable = filters.shareable()
    share_hm = hm if filters.audience == SHAREABLE else build(shareable, inputs)
    share_key = cache_key(shareable, version)
    if filters.audience != SHAREABLE:
        _write_atomic(folder / f"{share_key}.page.json", json.dumps(page_payload(shareable, share_hm, points)))
    _write_atomic(folder / f"{share_key}.html", render_standalone(share_hm, _options(for_page=False)))
    _write_atomic(folder / f"{share_key}.geojson", to_geojson_str(share_hm))
    out.files += [folder / f"{share_key}.html", folder / f"{share_key}.geojson"]
    _prune(folder)
    log.info("heat map %s rendered: %s cells from %s points", filters.layer, len(hm), points)
    return out


def export_shareable(filters: MapFilters) -> tuple[str, str]:
    """Standalone HTML and GeoJSON of the shareable map, rendered now (the CLI)."""
    from geo import render_standalone, to_geojson_str  # lazy: geo loads folium/geopandas

    shareable = filters.shareable()
    hm = build(shareable, load_inputs(shareable))
    return render_standalone(hm, _options(for_page=False)), to_geojson_str(hm)


# -- serving ----------------------------------------------------------------------------------------------


@dataclass
class MapResult:
    """Either `payload` (the page data, or an export's text) or `job_id` of the render to wait for."""

    filters: MapFilters
    key: str
    payload: Any = None
    job_id: int | None = None


def _pending_job(key: str) -> int | None:
    number = key_number(key)
    rows = db.session.execute(
        select(Job.id, Job.args)
        .where(Job.name == "render_heatmap", Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)))
        .order_by(Job.id)
    ).all()
    return next((job_id for job_id, args in rows if (args or {}).get("key") == number), None)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def serve(filters: MapFilters, user_id: int | None, suffix: str = "page.json") -> MapResult:
    """The cached map, rendered inline when the database is small, or a started (or running) job to wait for."""
    version = data_version(filters)
    key = cache_key(filters, version)
    path = cache_dir() / f"{key}.{suffix}"
    text = _read(path)
    if text is None and rows_in(version) <= int(current_app.config.get("HEATMAP_INLINE_MAX_ROWS", 5000)):
        render_to_cache(filters)
        text = _read(path)
    if text is not None:
        return MapResult(filters, key, payload=json.loads(text) if suffix == "page.json" else text)
    job_id = _pending_job(key)
    if job_id is None:
        job = start_job("render_heatmap", {**filters.job_args(), "key": key_number(key)}, user_id)
        job_id = job.id
    return MapResult(filters, key, job_id=job_id)
