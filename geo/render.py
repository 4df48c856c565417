"""Folium rendering of a ``Heatmap``: hexagons (or wards) coloured by value, authority outlines,
a title that says what and when, and a legend. No CDN: Leaflet is linked from ``asset_base_url``
(served by the app) or embedded inline from ``leaflet_dir`` for the standalone export.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import numpy as np
import numpy.typing as npt
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from .boundaries import Boundaries
from .encoding import SCALE, encode_rings
from .layers import Heatmap
from .zones import Ring, outer_rings

__all__ = ["MapFragment", "MapOptions", "classify", "build_map", "render_fragment", "render_page", "render_standalone"]

_CSS = """
.leaflet-container { background: #f3f2f1; font-family: arial, sans-serif; }
.can-geo-box { background: #fff; padding: 6px 10px; border: 1px solid #b1b4b6; max-width: 22em; line-height: 1.35; }
.can-geo-title strong { font-size: 16px; display: block; }
.can-geo-swatch { display: inline-block; width: 14px; height: 14px; margin-right: 6px; vertical-align: middle;
  border: 1px solid #505a5f; }
"""


@dataclass(frozen=True, slots=True)
class MapOptions:
    """``tile_url``: an XYZ template such as a council tile server; None draws no base map.
    ``asset_base_url``: URL prefix where the app serves Leaflet's dist files (leaflet.js, leaflet.css).
    ``leaflet_dir``: local Leaflet dist directory, embedded inline for standalone files.
    ``outlines``/``outline_codes``: authority boundaries to draw; codes None = those around the data."""

    tile_url: str | None = None
    tile_attribution: str = ""
    asset_base_url: str | None = None
    leaflet_dir: Path | None = None
    outlines: Boundaries | None = None
    outline_codes: Sequence[str] | None = None
    outline_simplify_deg: float = 0.0003
    title: str | None = None
    height: str = "100%"
    max_zoom: int = 18


@dataclass(frozen=True, slots=True)
class MapFragment:
    """Pieces for a page template: ``head`` (CSS/JS links), ``body`` (the map div), ``script``."""

    head: str
    body: str
    script: str


def _fmt(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}"


def classify(
    values: npt.NDArray[np.float64], n_classes: int, diverging: bool, decimals: int
) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Class index per value and a label per class. Sequential: quantile classes; diverging:
    symmetric about zero so the sign is always readable from the colour."""
    if values.size == 0:
        return np.empty(0, dtype=np.int64), []
    if diverging:
        half = n_classes // 2
        m = float(np.max(np.abs(values))) or 1.0
        step = m / half
        inner = np.array([-m + step * i for i in range(1, half)] + [0.0] + [step * i for i in range(1, half)])
        idx = np.searchsorted(inner, values, side="left").astype(np.int64)
        edges = [-m, *inner.tolist(), m]
        labels = [f"{_fmt(edges[i], decimals)} to {_fmt(edges[i + 1], decimals)}" for i in range(n_classes)]
        return idx, labels
    breaks = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_classes + 1)))
    if breaks.size < 2:
        return np.zeros(values.shape[0], dtype=np.int64), [_fmt(float(breaks[0]), decimals)]
    inner = breaks[1:-1]
    idx = np.searchsorted(inner, values, side="left").astype(np.int64)
    labels = [
        f"{_fmt(float(breaks[i]), decimals)} to {_fmt(float(breaks[i + 1]), decimals)}" for i in range(breaks.size - 1)
    ]
    return idx, labels


class _Assets(MacroElement):
    """Leaflet CSS/JS: linked from the app's static URL or embedded inline."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        {% if this.inline %}<style>{{ this.css }}</style>
        <script>{{ this.js }}</script>
        {% else %}<link rel="stylesheet" href="{{ this.base|e }}/leaflet.css"/>
        <script src="{{ this.base|e }}/leaflet.js"></script>
        {% endif %}<style>{{ this.extra_css }}</style>
        {% endmacro %}
        """
    )

    def __init__(self, base: str | None, leaflet_dir: Path | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CanGeoAssets"
        self.inline = base is None
        self.base = (base or "").rstrip("/")
        self.extra_css = _CSS
        self.css = self.js = ""
        if self.inline:
            if leaflet_dir is None:
                raise ValueError("pass asset_base_url (assets served by the app) or leaflet_dir (embedded)")
            self.css = (leaflet_dir / "leaflet.css").read_text(encoding="utf-8")
            # A literal "</script" inside the JS would end the tag early.
            self.js = (leaflet_dir / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")


class _Layer(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}({{ this._parent.get_name() }}, {{ this.data }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CanGeoLayer"
        self.js = resources.files("geo").joinpath("hexlayer.js").read_text(encoding="utf-8").strip().rstrip(";")
        # Escape so no string in the data can close the <script> element.
        self.data = (
            json.dumps(data, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )


class _Map(folium.Map):
    """folium.Map without its CDN defaults (jQuery, Bootstrap, Font Awesome, awesome-markers)."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


def _outline_rings(options: MapOptions, bounds: tuple[float, float, float, float] | None) -> list[list[Ring]]:
    b = options.outlines
    if b is None:
        return []
    if options.outline_codes is not None:
        codes = list(options.outline_codes)
    elif bounds is not None:
        codes = [c for c in b.codes if _bbox_overlaps(b.geometry(c).bounds, bounds)]
    else:
        codes = list(b.codes)
    return [outer_rings(b.geometry(c), options.outline_simplify_deg) for c in codes]


def _bbox_overlaps(geom_bounds: tuple[float, float, float, float], bounds: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = geom_bounds
    south, west, north, east = bounds
    return not (maxx < west or minx > east or maxy < south or miny > north)


def _layer_data(hm: Heatmap, options: MapOptions) -> tuple[dict[str, Any], list[list[float]]]:
    zone_rings = [hm.zoning.rings(int(z)) for z in hm.zones.tolist()]
    all_pts = [p for rings in zone_rings for ring in rings for p in ring]
    bounds = None
    if all_pts:
        arr = np.asarray(all_pts)
        bounds = (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 0].max()), float(arr[:, 1].max()))
    outlines = _outline_rings(options, bounds)
    if bounds is None:
        pts = [p for rings in outlines for ring in rings for p in ring] or [(51.5, -0.12)]
        arr = np.asarray(pts)
        bounds = (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 0].max()), float(arr[:, 1].max()))
    origin = (round(bounds[0], 2), round(bounds[1], 2))

    spec = hm.layer
    published = hm.published
    idx, labels = classify(hm.value[published], len(spec.palette), spec.diverging, spec.value_decimals)
    classes = np.full(len(hm), -1, dtype=np.int64)
    classes[published] = idx
    palette = list(spec.palette)
    if not spec.diverging and len(labels) < len(palette):  # few distinct values: use the darker end
        palette = palette[len(palette) - len(labels) :]
    values = [
        None if s else round(float(v), spec.value_decimals)
        for v, s in zip(hm.value.tolist(), hm.suppressed.tolist(), strict=True)
    ]
    if spec.value_decimals == 0:
        values = [None if v is None else int(v) for v in values]
    cells: dict[str, Any] = {
        "g": encode_rings(zone_rings, origin),
        "c": classes.tolist(),
        "n": [None if s else int(n) for n, s in zip(hm.people.tolist(), hm.suppressed.tolist(), strict=True)],
        "v": values,
    }
    if hm.zoning.resolution is None:
        cells["z"] = [hm.zoning.zone_name(int(z)) or hm.zoning.zone_code(int(z)) for z in hm.zones.tolist()]
    data = {
        "s": SCALE,
        "o": list(origin),
        "title": options.title or spec.title,
        "subtitle": [hm.describe(), f"{hm.zoning.label}; produced {hm.generated_on.strftime('%-d %B %Y')}"],
        "valueLabel": spec.value_label,
        "palette": palette,
        "legend": [[palette[i], labels[i]] for i in range(len(labels))],
        "hasHidden": bool(hm.suppressed.any()),
        "hiddenText": f"Fewer than {hm.k} people: hidden",
        "cells": cells,
        "outlines": {"g": encode_rings(outlines, origin)},
    }
    return data, [[bounds[0], bounds[1]], [bounds[2], bounds[3]]]


def build_map(hm: Heatmap, options: MapOptions, *, inline_assets: bool = False) -> folium.Map:
    title = options.title or hm.layer.title
    figure = Figure(title=html.escape(f"{title} ({hm.period.describe()})"), height=options.height)
    m = _Map(tiles=None, prefer_canvas=True, control_scale=True, max_zoom=options.max_zoom, location=[51.5, -0.12])
    figure.add_child(m)
    base = None if inline_assets else options.asset_base_url
    if base is None and not inline_assets and options.leaflet_dir is None:
        raise ValueError("pass asset_base_url (assets served by the app) or leaflet_dir (embedded)")
    m.add_child(_Assets(base, options.leaflet_dir))
    if options.tile_url:
        folium.TileLayer(
            tiles=options.tile_url, attr=options.tile_attribution or "Map tiles", max_zoom=options.max_zoom
        ).add_to(m)
    data, bounds = _layer_data(hm, options)
    m.add_child(_Layer(data))
    m.fit_bounds(bounds)
    return m


def render_standalone(hm: Heatmap, options: MapOptions) -> str:
    """A self-contained HTML file (Leaflet embedded) for sharing: only the tile URL, if any, is remote."""
    return str(build_map(hm, options, inline_assets=True).get_root().render())


def render_page(hm: Heatmap, options: MapOptions) -> str:
    """A full HTML document linking Leaflet from ``asset_base_url`` (or inline if only leaflet_dir is set)."""
    return str(build_map(hm, options, inline_assets=options.asset_base_url is None).get_root().render())


def render_fragment(hm: Heatmap, options: MapOptions) -> MapFragment:
    """For embedding in a dashboard template: put ``head`` in <head>, ``body`` where the map goes
    (give its container a height), ``script`` at the end of <body>."""
    m = build_map(hm, options, inline_assets=options.asset_base_url is None)
    root = m.get_root()
    assert isinstance(root, Figure)
    root.render()
    header: Element = root.header
    return MapFragment(head=str(header.render()), body=str(root.html.render()), script=str(root.script.render()))
