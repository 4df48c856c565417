"""Plain input types the app passes to the heat maps: one row per person-event, no names or addresses.

``person_id`` is whatever stable id the app has (int or str): it is only used to count *distinct*
people per cell for k-anonymity and never leaves this library.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Period", "PointRecord", "PointSet", "VolunteerRecord", "VolunteerSet"]

PersonId = int | str


@dataclass(frozen=True, slots=True)
class PointRecord:
    """One located event: an open request, a shielded resident, a delivered request...

    ``value``: 1 for counts; hours for time-to-delivery. ``when``: the date filters use (e.g. request
    created). ``category``: the request type filters use.
    """

    lat: float
    lon: float
    person_id: PersonId
    value: float = 1.0
    when: date | datetime | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class VolunteerRecord:
    """A volunteer's home point, spare capacity (e.g. tasks per week) and how far they will travel."""

    lat: float
    lon: float
    person_id: PersonId
    capacity: float
    max_travel_km: float


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive date range; either end may be open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError("period start is after its end")

    def describe(self) -> str:
        fmt = "%-d %B %Y"
        if self.start and self.end:
            return f"{self.start.strftime(fmt)} to {self.end.strftime(fmt)}"
        if self.start:
            return f"since {self.start.strftime(fmt)}"
        if self.end:
            return f"up to {self.end.strftime(fmt)}"
        return "all dates"


def _coords(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    lat_a = np.ascontiguousarray(lat, dtype=np.float64).ravel()
    lon_a = np.ascontiguousarray(lon, dtype=np.float64).ravel()
    if lat_a.shape != lon_a.shape:
        raise ValueError("lat and lon must have the same length")
    if not (np.isfinite(lat_a).all() and np.isfinite(lon_a).all()):
        raise ValueError("coordinates must be finite")
    if (np.abs(lat_a) > 90).any() or (np.abs(lon_a) > 180).any():
        raise ValueError("coordinates must be WGS84 degrees (lat within ±90, lon within ±180)")
    return lat_a, lon_a


def _people(person_id: Sequence[PersonId] | npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    codes, _ = pd.factorize(np.asarray(person_id, dtype=object).ravel())
    out = np.asarray(codes, dtype=np.int64)
    if out.shape[0] != n:
        raise ValueError("person_id must have one entry per point")
    if (out < 0).any():
        raise ValueError("person_id must not be missing")
    return out


def _floats(values: npt.ArrayLike | None, n: int, default: float, name: str) -> npt.NDArray[np.float64]:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    out = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if out.shape[0] != n:
        raise ValueError(f"{name} must have one entry per point")
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must be finite")
    return out


def _day(value: date | datetime | None) -> Any:
    if value is None:
        return np.datetime64("NaT", "D")
    if isinstance(value, datetime):
        value = value.date()
    return np.datetime64(value, "D")


@dataclass(frozen=True, slots=True, eq=False)
class PointSet:
    """Columnar points: parallel arrays, ``person`` already factorised to 0..P-1."""

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    person: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    when: npt.NDArray[np.datetime64] | None = None
    category: npt.NDArray[np.object_] | None = None

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    @classmethod
    def from_arrays(
        cls,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        person_id: Sequence[PersonId] | npt.ArrayLike,
        value: npt.ArrayLike | None = None,
        *,
        when: Sequence[date | datetime | None] | npt.ArrayLike | None = None,
        category: Sequence[str | None] | npt.ArrayLike | None = None,
    ) -> PointSet:
        lat_a, lon_a = _coords(lat, lon)
        n = lat_a.shape[0]
        when_a = None
        if when is not None:
            when_a = np.asarray(when, dtype="datetime64[D]").ravel()
            if when_a.shape[0] != n:
                raise ValueError("when must have one entry per point")
        cat_a = None
        if category is not None:
            cat_a = np.asarray(category, dtype=object).ravel()
            if cat_a.shape[0] != n:
                raise ValueError("category must have one entry per point")
        return cls(lat_a, lon_a, _people(person_id, n), _floats(value, n, 1.0, "value"), when_a, cat_a)

    @classmethod
    def from_records(cls, records: Iterable[PointRecord]) -> PointSet:
        rows = list(records)
        has_when = any(r.when is not None for r in rows)
        has_cat = any(r.category is not None for r in rows)
        return cls.from_arrays(
            [r.lat for r in rows],
            [r.lon for r in rows],
            [r.person_id for r in rows],
            [r.value for r in rows],
            when=np.array([_day(r.when) for r in rows], dtype="datetime64[D]") if has_when else None,
            category=[r.category for r in rows] if has_cat else None,
        )

    def filtered(self, period: Period | None = None, categories: Collection[str] | None = None) -> PointSet:
        """Points inside ``period`` (by ``when``; undated points drop out) and of the given categories."""
        keep = np.ones(len(self), dtype=bool)
        if period is not None and (period.start or period.end):
            if self.when is None:
                raise ValueError("a period filter needs points with dates (when)")
            keep &= ~np.isnat(self.when)
            if period.start:
                keep &= self.when >= np.datetime64(period.start, "D")
            if period.end:
                keep &= self.when <= np.datetime64(period.end, "D")
        if categories is not None:
            if self.category is None:
                raise ValueError("a request type filter needs points with a category")
            keep &= np.isin(self.category, np.asarray(list(categories), dtype=object))
        if keep.all():
            return self
        return PointSet(
            self.lat[keep],
            self.lon[keep],
            self.person[keep],
            self.value[keep],
            None if self.when is None else self.when[keep],
            None if self.category is None else self.category[keep],
        )


@dataclass(frozen=True, slots=True, eq=False)
class VolunteerSet:
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    person: npt.NDArray[np.int64]
    capacity: npt.NDArray[np.float64]
    max_travel_km: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    @classmethod
    def from_arrays(
        cls,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        person_id: Sequence[PersonId] | npt.ArrayLike,
        capacity: npt.ArrayLike,
        max_travel_km: npt.ArrayLike,
    ) -> VolunteerSet:
        lat_a, lon_a = _coords(lat, lon)
        n = lat_a.shape[0]
        cap = _floats(capacity, n, 0.0, "capacity")
        reach = _floats(max_travel_km, n, 0.0, "max_travel_km")
        if (cap < 0).any() or (reach < 0).any():
            raise ValueError("capacity and max_travel_km must not be negative")
        return cls(lat_a, lon_a, _people(person_id, n), cap, reach)

    @classmethod
    def from_records(cls, records: Iterable[VolunteerRecord]) -> VolunteerSet:
        rows = list(records)
        return cls.from_arrays(
            [r.lat for r in rows],
            [r.lon for r in rows],
            [r.person_id for r in rows],
            [r.capacity for r in rows],
            [r.max_travel_km for r in rows],
        )

    def as_points(self) -> PointSet:
        """Volunteer homes as points valued by capacity (the volunteer-supply layer)."""
        return PointSet(self.lat, self.lon, self.person, self.capacity)
