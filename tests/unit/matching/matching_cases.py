"""Helpers for the matching tests: tiny instances built in a few words."""

from __future__ import annotations

from matching import Request, Volunteer

# 0.01 degrees of latitude is 1.112 km; requests and volunteers sit on one meridian for easy sums.
BASE_LAT, LON = 51.5, -0.2


def req(
    rid: str,
    km_north: float = 0.0,
    urgency: int = 1,
    skills: tuple[str, ...] = (),
    min_dbs: str = "none",
    excluded: tuple[str, ...] = (),
    preferred: str | None = None,
) -> Request:
    return Request(
        rid, BASE_LAT + km_north / 111.2, LON, urgency, frozenset(skills), min_dbs, frozenset(excluded), preferred
    )


def vol(
    vid: str,
    km_north: float = 0.0,
    skills: tuple[str, ...] = (),
    dbs: str = "enhanced",
    max_km: float = 5.0,
    capacity: int = 1,
) -> Volunteer:
    return Volunteer(vid, BASE_LAT + km_north / 111.2, LON, frozenset(skills), dbs, max_km, capacity)
