"""Authority (and ward) boundaries: which area is responsible for a point.

Any format GeoPandas reads (GeoJSON, Shapefile, GeoPackage); geometries are reprojected to WGS84.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from .postcodes import GeoError

__all__ = [
    "Authority",
    "Boundaries",
    "BoundaryFormatError",
    "OutOfArea",
    "find_default_boundary_file",
]

# Column names used by the ONS / London Datastore files, tried in order when none are given.
_CODE_COLUMNS = ("GSS_CODE", "LAD24CD", "LAD23CD", "LAD22CD", "LAD21CD", "WD24CD", "WD23CD", "WD22CD", "code")
_NAME_COLUMNS = ("NAME", "LAD24NM", "LAD23NM", "LAD22NM", "LAD21NM", "WD24NM", "WD23NM", "WD22NM", "name")
DEFAULT_BOUNDARY_ENV = "CAN_GEO_BOUNDARIES"
_DEFAULT_CANDIDATES = ("data/london_boroughs.geojson", "../shared/data/london_boroughs.geojson")


class BoundaryFormatError(GeoError):
    """The boundary file is unreadable or lacks a code/name column."""


class Authority(NamedTuple):
    gss_code: str
    name: str


@dataclass(frozen=True, slots=True)
class OutOfArea:
    """A point outside the home authority. ``responsible`` is None when no loaded boundary holds it."""

    home_gss: str
    responsible: Authority | None


def find_default_boundary_file(base: str | Path | None = None) -> Path:
    """``$CAN_GEO_BOUNDARIES`` or the first of ``data/london_boroughs.geojson``,
    ``../shared/data/london_boroughs.geojson`` that exists under ``base`` (default: the working directory)."""
    env = os.environ.get(DEFAULT_BOUNDARY_ENV)
    if env:
        return Path(env)
    root = Path(base) if base is not None else Path.cwd()
    for candidate in _DEFAULT_CANDIDATES:
        if (root / candidate).is_file():
            return (root / candidate).resolve()
    raise FileNotFoundError(f"no boundary file: set {DEFAULT_BOUNDARY_ENV} or pass a path")


def _pick(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise BoundaryFormatError(f"{path}: no {what} column {wanted!r}; columns are {', '.join(columns)}")
        return wanted
    for c in candidates:
        if c in columns:
            return c
    raise BoundaryFormatError(f"{path}: cannot find a {what} column; pass one of {', '.join(columns)}")


class Boundaries:
    """A set of non-overlapping areas with a GSS code and a name, in WGS84."""

    def __init__(self, frame: Any) -> None:
        """``frame``: a GeoDataFrame in EPSG:4326 with columns ``code``, ``name``, ``geometry``."""
        self.frame = frame.reset_index(drop=True)
        self.codes: list[str] = [str(c) for c in self.frame["code"]]
        self.names: list[str] = [str(n) for n in self.frame["name"]]
        self._by_code = {c: i for i, c in enumerate(self.codes)}
        self._geoms: npt.NDArray[Any] = np.asarray(self.frame.geometry.values, dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    @classmethod
    def from_file(
        cls, path: str | Path, *, code_column: str | None = None, name_column: str | None = None
    ) -> Boundaries:
        path = Path(path)
        try:
            frame = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
            raise BoundaryFormatError(f"{path}: cannot read boundaries ({exc})") from exc
        columns = [str(c) for c in frame.columns]
        code = _pick(columns, code_column, _CODE_COLUMNS, "code", path)
        name = _pick(columns, name_column, _NAME_COLUMNS, "name", path)
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
        out = gpd.GeoDataFrame(
            {"code": frame[code].astype(str), "name": frame[name].astype(str)}, geometry=frame.geometry.values, crs=4326
        )
        return cls(out)

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def authority(self, gss_code: str) -> Authority:
        i = self._by_code[gss_code]
        return Authority(self.codes[i], self.names[i])

    def geometry(self, gss_code: str) -> Any:
        return self._geoms[self._by_code[gss_code]]

    def index_at(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Row of the area holding each point, -1 where none does. A point exactly on a shared
        edge goes to the lowest row, so the answer is deterministic."""
        lat_a = np.asarray(lat, dtype=np.float64).ravel()
        lon_a = np.asarray(lon, dtype=np.float64).ravel()
        if lat_a.shape != lon_a.shape:
            raise ValueError("lat and lon must have the same length")
        result = np.full(lat_a.shape[0], -1, dtype=np.int64)
        if lat_a.size == 0:
            return result
        points = shapely.points(lon_a, lat_a)
        hits = self._tree.query(points, predicate="intersects")
        point_idx, area_idx = hits[0], hits[1]
        order = np.lexsort((area_idx, point_idx))
        point_idx, area_idx = point_idx[order], area_idx[order]
        first = np.ones(point_idx.shape[0], dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = area_idx[first]
        return result

    def codes_at(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> list[str | None]:
        """Vectorised ``authority_at``: the GSS code for each point, None outside every area."""
        return [self.codes[i] if i >= 0 else None for i in self.index_at(lat, lon).tolist()]

    def authority_at(self, lat: float, lon: float) -> Authority | None:
        i = int(self.index_at([lat], [lon])[0])
        return Authority(self.codes[i], self.names[i]) if i >= 0 else None

    def out_of_area(self, lat: float, lon: float, home_gss: str) -> OutOfArea | None:
        """None when the point is inside ``home_gss``; otherwise who is responsible for it."""
        if home_gss not in self._by_code:
            raise ValueError(f"home authority {home_gss} is not in the loaded boundaries")
        found = self.authority_at(lat, lon)
        if found is not None and found.gss_code == home_gss:
            return None
        return OutOfArea(home_gss=home_gss, responsible=found)

    def neighbours(self, gss_code: str, *, within_deg: float = 0.003) -> list[Authority]:
        """Areas within ``within_deg`` (~300 m) of ``gss_code``. Not just touching: some boundary
        files stop at each river bank, and the borough across the Thames is still a neighbour."""
        i = self._by_code[gss_code]
        hits = self._tree.query(self._geoms[i], predicate="dwithin", distance=within_deg)
        return [Authority(self.codes[j], self.names[j]) for j in sorted(int(h) for h in hits) if j != i]

    def subset(self, codes: Sequence[str]) -> Boundaries:
        missing = [c for c in codes if c not in self._by_code]
        if missing:
            raise KeyError(f"unknown area code(s): {', '.join(missing)}")
        return Boundaries(self.frame.iloc[[self._by_code[c] for c in codes]])
