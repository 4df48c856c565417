"""Where road distances come from: a pluggable provider behind one Protocol.

The default is the great-circle distance times a road factor (no network, no server). A
council with its own routing server plugs in :class:`RoutingServer`, which asks an
OSRM-compatible ``table`` service for a distance matrix; the planner never knows which it got.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from matching.geometry import FloatArray, haversine_km_arrays

Point = tuple[float, float]


class DistanceProvider(Protocol):
    """Road distances in km between every pair of ``points`` (lat, lon in degrees)."""

    def matrix_km(self, points: Sequence[Point]) -> FloatArray: ...


class StraightLine:
    """Great-circle km times ``road_factor`` (roads are rarely straight: 1.3 is typical in towns)."""

    def __init__(self, road_factor: float = 1.3) -> None:
        if road_factor < 1:
            raise ValueError("road_factor must be at least 1")
        self.road_factor = road_factor

    def matrix_km(self, points: Sequence[Point]) -> FloatArray:
        if not points:
            return np.zeros((0, 0))
        lat = np.radians(np.array([p[0] for p in points], dtype=np.float64))
        lon = np.radians(np.array([p[1] for p in points], dtype=np.float64))
        out: FloatArray = haversine_km_arrays(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        return out * self.road_factor


Fetch = Callable[[str, float], Any]


def _http_json(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - the council's own server
        return json.load(resp)


class RoutingServer:
    """Distances from an OSRM-compatible ``/table/v1/{profile}`` service (metres in, km out).

    ``fetch`` is injectable so tests (and callers with their own HTTP client) need no server.
    """

    def __init__(self, base_url: str, profile: str = "driving", timeout_s: float = 30.0, fetch: Fetch | None = None):
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout_s = timeout_s
        self.fetch = fetch or _http_json

    def matrix_km(self, points: Sequence[Point]) -> FloatArray:
        if not points:
            return np.zeros((0, 0))
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        data = self.fetch(f"{self.base_url}/table/v1/{self.profile}/{coords}?annotations=distance", self.timeout_s)
        if not isinstance(data, dict) or data.get("code") != "Ok" or "distances" not in data:
            raise RuntimeError(f"routing server answered without distances: {str(data)[:200]}")
        raw = np.array(data["distances"], dtype=np.float64)
        if raw.shape != (len(points), len(points)) or not np.isfinite(raw).all():
            raise RuntimeError("routing server returned a matrix of the wrong shape or with unreachable points")
        out: FloatArray = raw / 1000.0
        return out
