"""Generate a small ONSPD-format CSV for tests and demos: random points inside real authority
polygons, with plausible postcodes for each authority. Deterministic for a given seed.

Ward codes (osward) are synthetic: one per H3 resolution-7 cell within an authority.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from .boundaries import Boundaries
from .cells import cells_for

__all__ = ["DISTRICTS", "ONSPD_OUTPUT_COLUMNS", "make_onspd", "random_points_in"]

# Real postcode districts that lie (at least mostly) in each London authority.
DISTRICTS: dict[str, tuple[str, ...]] = {
    "E09000001": ("EC1A", "EC2V", "EC3M", "EC4M"),
    "E09000002": ("IG11", "RM8", "RM9", "RM10"),
    "E09000003": ("N3", "N12", "NW4", "NW7", "EN5"),
    "E09000004": ("DA5", "DA6", "DA7", "DA14"),
    "E09000005": ("NW10", "HA0", "HA9", "NW2"),
    "E09000006": ("BR1", "BR2", "BR3", "BR6"),
    "E09000007": ("NW1", "NW3", "NW5", "WC1H"),
    "E09000008": ("CR0", "CR2", "CR7", "SE25"),
    "E09000009": ("W3", "W5", "W7", "W13"),
    "E09000010": ("EN1", "EN2", "EN3", "N9"),
    "E09000011": ("SE3", "SE9", "SE10", "SE18"),
    "E09000012": ("E5", "E8", "E9", "N16"),
    "E09000013": ("W6", "W12", "W14", "SW6"),
    "E09000014": ("N8", "N15", "N17", "N22"),
    "E09000015": ("HA1", "HA2", "HA3", "HA5"),
    "E09000016": ("RM1", "RM3", "RM7", "RM11"),
    "E09000017": ("UB3", "UB8", "UB10", "HA4"),
    "E09000018": ("TW3", "TW4", "TW5", "W4"),
    "E09000019": ("N1", "N5", "N7", "N19"),
    "E09000020": ("W8", "W10", "W11", "SW3", "SW5", "SW7", "SW10"),
    "E09000021": ("KT1", "KT2", "KT3", "KT6"),
    "E09000022": ("SE11", "SE27", "SW2", "SW9"),
    "E09000023": ("SE4", "SE6", "SE13", "SE14"),
    "E09000024": ("SW19", "SW20", "CR4", "SM4"),
    "E09000025": ("E6", "E7", "E13", "E15"),
    "E09000026": ("IG1", "IG2", "IG4", "IG6"),
    "E09000027": ("TW1", "TW9", "TW10", "SW14"),
    "E09000028": ("SE1", "SE5", "SE15", "SE16"),
    "E09000029": ("SM1", "SM2", "SM3", "SM5"),
    "E09000030": ("E1", "E2", "E3", "E14"),
    "E09000031": ("E4", "E10", "E11", "E17"),
    "E09000032": ("SW11", "SW12", "SW15", "SW18"),
    "E09000033": ("W1U", "W2", "W9", "SW1P"),
}
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the 20 letters ONS uses in the inward code
_PER_DISTRICT = 10 * len(_UNIT_LETTERS) ** 2
ONSPD_OUTPUT_COLUMNS = (
    "pcd", "pcd2", "pcds", "dointr", "doterm", "oscty", "oslaua", "osward", "usertype",
    "oseast1m", "osnrth1m", "osgrdind", "ctry", "rgn", "lat", "long",
)  # fmt: skip


def random_points_in(
    geometry: Any, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` uniform random (lat, lon) points strictly inside ``geometry`` (rejection sampling)."""
    minx, miny, maxx, maxy = geometry.bounds
    shapely.prepare(geometry)
    lats: list[npt.NDArray[np.float64]] = []
    lons: list[npt.NDArray[np.float64]] = []
    have = 0
    while have < n:
        batch = max(64, 2 * (n - have))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(geometry, x, y)
        lons.append(x[inside])
        lats.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(lats)[:n], np.concatenate(lons)[:n]


def _district_codes(gss: str, fallback_no: int) -> tuple[str, ...]:
    return DISTRICTS.get(gss, tuple(f"ZZ{fallback_no * 4 + i}" for i in range(4)))


def _postcodes_for(
    districts: Sequence[str], lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64], rng: np.random.Generator
) -> list[str]:
    """Unique postcodes; the district follows the bearing from the points' centre so that
    districts form contiguous-looking wedges rather than salt and pepper."""
    n = lat.shape[0]
    if n > _PER_DISTRICT * len(districts):
        raise ValueError(f"at most {_PER_DISTRICT * len(districts)} postcodes per authority")
    bearing = np.arctan2(lat - lat.mean(), lon - lon.mean())
    rank = np.argsort(np.argsort(bearing, kind="stable"), kind="stable")
    district_no = (rank * len(districts)) // max(n, 1)
    out: list[str] = []
    for d, name in enumerate(districts):
        members = np.flatnonzero(district_no == d)
        units = rng.choice(_PER_DISTRICT, size=members.shape[0], replace=False)
        for u in units.tolist():
            sector, rest = divmod(u, len(_UNIT_LETTERS) ** 2)
            a, b = divmod(rest, len(_UNIT_LETTERS))
            out.append(f"{name} {sector}{_UNIT_LETTERS[a]}{_UNIT_LETTERS[b]}")
    order = np.concatenate([np.flatnonzero(district_no == d) for d in range(len(districts))])
    result = [""] * n
    for i, pc in zip(order.tolist(), out, strict=True):
        result[i] = pc
    return result


def make_onspd(
    boundaries: Boundaries,
    out: str | Path,
    *,
    per_borough: int,
    seed: int = 0,
    codes: Sequence[str] | None = None,
    terminated_fraction: float = 0.02,
    no_location_fraction: float = 0.01,
) -> int:
    """Write an ONSPD-format CSV with ``per_borough`` live, located postcodes per authority plus
    some terminated and no-location rows (as in the real file). Returns the number of rows."""
    if per_borough < 0:
        raise ValueError("per_borough must not be negative")
    rng = np.random.default_rng(seed)
    codes = list(codes) if codes is not None else sorted(boundaries.codes)
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    rows: list[tuple[object, ...]] = []
    for no, gss in enumerate(codes):
        n_term = int(round(per_borough * terminated_fraction))
        n_noloc = int(round(per_borough * no_location_fraction))
        total = per_borough + n_term + n_noloc
        lat, lon = random_points_in(boundaries.geometry(gss), total, rng)
        postcodes = _postcodes_for(_district_codes(gss, no), lat, lon, rng)
        easting, northing = to_bng.transform(lon, lat)
        wards = cells_for(lat, lon, 7)
        ward_ids = {c: i for i, c in enumerate(np.unique(wards).tolist())}
        kind = np.zeros(total, dtype=np.int8)  # 0 live, 1 terminated, 2 no location
        special = rng.permutation(total)[: n_term + n_noloc]
        kind[special[:n_term]] = 1
        kind[special[n_term:]] = 2
        for i in range(total):
            pc = postcodes[i]
            outward, inward = pc.split(" ")
            ward = f"E05{int(gss[-2:]) % 100:02d}{ward_ids[int(wards[i])]:04d}"
            located = kind[i] != 2
            rows.append(
                (
                    f"{outward:<4}{inward}" if len(outward) <= 4 else outward + inward,
                    f"{outward:<5}{inward}",
                    pc,
                    "199801",
                    "202106" if kind[i] == 1 else "",
                    "E99999999",
                    gss,
                    ward,
                    0,
                    int(round(easting[i])) if located else "",
                    int(round(northing[i])) if located else "",
                    1 if located else 9,
                    "E92000001",
                    "E12000007",
                    f"{lat[i]:.6f}" if located else "99.999999",
                    f"{lon[i]:.6f}" if located else "0.000000",
                )
            )
    rows.sort(key=lambda r: str(r[2]))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(ONSPD_OUTPUT_COLUMNS)
        writer.writerows(rows)
    return len(rows)
