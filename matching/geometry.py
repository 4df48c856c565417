"""Great-circle geometry: haversine distances and the 3-D unit vectors used by the KD-trees."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
FloatArray = npt.NDArray[np.float64]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_arrays(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Vectorised haversine; inputs in radians, output in km."""
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    out: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return out


def unit_vectors(lat_rad: FloatArray, lon_rad: FloatArray) -> FloatArray:
    """Points on the unit sphere: Euclidean chord length is monotone in great-circle distance."""
    c = np.cos(lat_rad)
    return np.column_stack((c * np.cos(lon_rad), c * np.sin(lon_rad), np.sin(lat_rad)))


def km_for_chord(chord: FloatArray) -> FloatArray:
    """Great-circle km of a chord on the unit sphere (the angle is 2*asin(c/2)), unpadded: callers shave their own
    margin for rounding."""
    out: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2))
    return out


def chord_for_km(km: float | FloatArray) -> FloatArray:
    """Chord length on the unit sphere covering a great-circle distance, padded for rounding.

    The padding makes KD-tree ball queries a superset; callers then filter with exact haversine.
    """
    theta = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, math.pi)
    out: FloatArray = 2 * np.sin(theta / 2) * (1 + 1e-9) + 1e-12
    return out
