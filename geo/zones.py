"""Zonings: how points are grouped for a heat map. H3 hexagons, or polygons such as wards.

A zone is an int64 id: the H3 cell for hexagons, the row number for polygons.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import shapely

from .boundaries import Boundaries
from .cells import MAP_RESOLUTION, cell_boundary, cell_centres, cell_str, cells_for

__all__ = ["HexZoning", "PolygonZoning", "Ring", "Zoning"]

Ring = list[tuple[float, float]]  # (lat, lon) vertices, not closed


class Zoning(Protocol):
    @property
    def label(self) -> str:
        """Human description for titles, e.g. 'H3 hexagons (resolution 8)' or 'wards'."""
        ...

    @property
    def resolution(self) -> int | None:
        """H3 resolution, or None for polygons."""
        ...

    def assign(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Zone of each point; -1 where the point is in no zone (it is then left out)."""
        ...

    def zone_code(self, zone: int) -> str: ...

    def zone_name(self, zone: int) -> str | None: ...

    def rings(self, zone: int) -> list[Ring]:
        """Outer rings of the zone's polygon(s), for drawing."""
        ...

    def centres(self, zones: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """(n, 2) array of (lat, lon) representative points."""
        ...


class HexZoning:
    def __init__(self, resolution: int = int(MAP_RESOLUTION)) -> None:
        if not 0 <= resolution <= 15:
            raise ValueError("H3 resolution must be 0..15")
        self._resolution = int(resolution)

    @property
    def label(self) -> str:
        return f"H3 hexagons (resolution {self._resolution})"

    @property
    def resolution(self) -> int | None:
        return self._resolution

    def assign(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        # H3 indexes have the top bit clear, so they fit in int64 unchanged.
        return cells_for(lat, lon, self._resolution).view(np.int64)

    def zone_code(self, zone: int) -> str:
        return cell_str(zone)

    def zone_name(self, zone: int) -> str | None:
        return None

    def rings(self, zone: int) -> list[Ring]:
        return [cell_boundary(zone)]

    def centres(self, zones: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return cell_centres(zones.tolist())


class PolygonZoning:
    """Aggregate to the areas of a ``Boundaries`` (e.g. wards). ``simplify_deg`` only affects drawing."""

    def __init__(self, boundaries: Boundaries, *, label: str = "wards", simplify_deg: float = 0.0002) -> None:
        self._b = boundaries
        self._label = label
        self._simplify = simplify_deg
        self._rings: dict[int, list[Ring]] = {}

    @property
    def label(self) -> str:
        return self._label

    @property
    def resolution(self) -> int | None:
        return None

    def assign(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return self._b.index_at(lat, lon)

    def zone_code(self, zone: int) -> str:
        return self._b.codes[zone]

    def zone_name(self, zone: int) -> str | None:
        return self._b.names[zone]

    def rings(self, zone: int) -> list[Ring]:
        if zone not in self._rings:
            self._rings[zone] = outer_rings(self._b.geometry(self._b.codes[zone]), self._simplify)
        return self._rings[zone]

    def centres(self, zones: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        geoms = [self._b.geometry(self._b.codes[int(z)]) for z in zones.tolist()]
        pts = shapely.point_on_surface(np.asarray(geoms, dtype=object)) if geoms else np.empty(0, dtype=object)
        out = np.empty((len(geoms), 2), dtype=np.float64)
        if geoms:
            out[:, 0] = shapely.get_y(pts)
            out[:, 1] = shapely.get_x(pts)
        return out


def outer_rings(geometry: Any, simplify_deg: float = 0.0) -> list[Ring]:
    """Exterior rings of a (Multi)Polygon as (lat, lon) lists, optionally simplified."""
    geom = shapely.simplify(geometry, simplify_deg, preserve_topology=True) if simplify_deg > 0 else geometry
    rings: list[Ring] = []
    for part in shapely.get_parts(geom).tolist():
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        coords = np.asarray(part.exterior.coords)[:-1]
        rings.append([(float(y), float(x)) for x, y in coords.tolist()])
    return rings
