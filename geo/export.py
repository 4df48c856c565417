"""GeoJSON export of a heat map: one feature per zone, suppressed zones carry no count or value."""

from __future__ import annotations

import json
from typing import Any

from .layers import Heatmap
from .zones import Ring

__all__ = ["to_geojson", "to_geojson_str"]


def _polygon(rings: list[Ring]) -> dict[str, Any]:
    polys = [[[[round(lon, 6), round(lat, 6)] for lat, lon in ring + ring[:1]]] for ring in rings]
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def to_geojson(hm: Heatmap) -> dict[str, Any]:
    """FeatureCollection. Published zones: ``properties.count`` (distinct people, an int >= k) and
    ``properties.value``; suppressed zones: ``properties.suppressed = true`` and ``value`` null."""
    spec = hm.layer
    features: list[dict[str, Any]] = []
    for zone, people, value, hidden in zip(
        hm.zones.tolist(), hm.people.tolist(), hm.value.tolist(), hm.suppressed.tolist(), strict=True
    ):
        props: dict[str, Any] = {"zone": hm.zoning.zone_code(zone), "layer": spec.key}
        name = hm.zoning.zone_name(zone)
        if name is not None:
            props["name"] = name
        if hidden:
            props["suppressed"] = True
            props["value"] = None
        else:
            assert people >= hm.k, "an unsuppressed zone must hold at least k people"
            props["count"] = int(people)
            props["value"] = round(float(value), spec.value_decimals) if spec.value_decimals else int(round(value))
        features.append({"type": "Feature", "geometry": _polygon(hm.zoning.rings(zone)), "properties": props})
    return {
        "type": "FeatureCollection",
        "metadata": {
            "layer": spec.key,
            "title": spec.title,
            "value": spec.value_label,
            "k": hm.k,
            "zones": hm.zoning.label,
            "period": {
                "start": hm.period.start.isoformat() if hm.period.start else None,
                "end": hm.period.end.isoformat() if hm.period.end else None,
            },
            "request_types": list(hm.request_types) if hm.request_types is not None else None,
            "generated_on": hm.generated_on.isoformat(),
        },
        "features": features,
    }


def to_geojson_str(hm: Heatmap) -> str:
    return json.dumps(to_geojson(hm), separators=(",", ":"), allow_nan=False)
