"""H3 hexagon cells. Two named resolutions: FINE for neighbourhood queries, MAP for heat maps.

Cells are 64-bit integers internally (fast, compact in numpy); ``cell_str`` / ``cell_int`` convert
to and from the usual 15-character hex string used for storage and GeoJSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

import h3
import numpy as np
import numpy.typing as npt
from h3.api import basic_int as h3i

__all__ = [
    "Resolution",
    "FINE_RESOLUTION",
    "MAP_RESOLUTION",
    "cell_boundary",
    "cell_centre",
    "cell_int",
    "cell_str",
    "cells_for",
    "h3_cells",
    "h3_cells_array",
    "parents",
]


class Resolution(IntEnum):
    """Resolution 9 cells average ~0.1 km² (a few streets); 8 ~0.74 km²; 7 ~5.2 km²."""

    NEIGHBOURHOOD = 9
    MAP = 8
    DISTRICT = 7


FINE_RESOLUTION = Resolution.NEIGHBOURHOOD
MAP_RESOLUTION = Resolution.MAP


def cell_str(cell: int) -> str:
    return str(h3.int_to_str(int(cell)))


def cell_int(cell: str) -> int:
    return int(h3.str_to_int(cell))


def h3_cells(lat: float, lon: float) -> tuple[str, str]:
    """(fine cell, map cell) as H3 strings for one point, e.g. for the resident/volunteer rows."""
    fine = int(h3i.latlng_to_cell(float(lat), float(lon), int(FINE_RESOLUTION)))
    return cell_str(fine), cell_str(int(h3i.cell_to_parent(fine, int(MAP_RESOLUTION))))


def cells_for(lat: npt.ArrayLike, lon: npt.ArrayLike, resolution: int) -> npt.NDArray[np.uint64]:
    """Vectorised point -> cell (uint64) at ``resolution``."""
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    if lat_a.shape != lon_a.shape:
        raise ValueError("lat and lon must have the same length")
    if not (np.isfinite(lat_a).all() and np.isfinite(lon_a).all()):
        raise ValueError("coordinates must be finite")
    to_cell = h3i.latlng_to_cell
    return np.fromiter(
        (to_cell(a, b, resolution) for a, b in zip(lat_a.tolist(), lon_a.tolist(), strict=True)),
        dtype=np.uint64,
        count=lat_a.shape[0],
    )


def parents(cells: npt.NDArray[np.uint64], resolution: int) -> npt.NDArray[np.uint64]:
    """Parent of each cell at a coarser ``resolution``; computed once per distinct cell."""
    unique, inverse = np.unique(cells, return_inverse=True)
    up = np.fromiter((h3i.cell_to_parent(int(c), resolution) for c in unique.tolist()), np.uint64, unique.shape[0])
    return up[inverse]


def h3_cells_array(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[list[str], list[str]]:
    """Vectorised ``h3_cells``: (fine cells, map cells) as strings, one per point."""
    fine = cells_for(lat, lon, int(FINE_RESOLUTION))
    coarse = parents(fine, int(MAP_RESOLUTION))
    return [cell_str(c) for c in fine.tolist()], [cell_str(c) for c in coarse.tolist()]


def cell_centre(cell: int) -> tuple[float, float]:
    lat, lon = h3i.cell_to_latlng(int(cell))
    return float(lat), float(lon)


def cell_boundary(cell: int) -> list[tuple[float, float]]:
    """Vertices as (lat, lon), not closed."""
    return [(float(a), float(b)) for a, b in h3i.cell_to_boundary(int(cell))]


def cell_centres(cells: Iterable[int]) -> npt.NDArray[np.float64]:
    """(n, 2) array of (lat, lon) centres."""
    return np.array([h3i.cell_to_latlng(int(c)) for c in cells], dtype=np.float64).reshape(-1, 2)
