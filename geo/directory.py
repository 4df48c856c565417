"""Offline postcode directory built from the ONS Postcode Directory (ONSPD) CSV.

``import_onspd`` reads only the columns it needs, drops terminated postcodes and rows without
a location, and writes a compact ``.npz`` index; ``PostcodeDirectory.load`` reads it back into a
dict for microsecond lookups.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from .postcodes import POSTCODE_PATTERN, GeoError, PostcodeLocation, UnknownPostcode, normalise_postcode, parse_postcode

__all__ = ["ImportReport", "OnspdFormatError", "PostcodeDirectory", "import_onspd", "ONSPD_COLUMNS"]

ONSPD_COLUMNS = ("pcds", "lat", "long", "oslaua", "osward", "doterm")
_INDEX_FORMAT = 1
# ONSPD marks postcodes with no grid reference with lat 99.999999 and long 0.000000.
_NO_LOCATION_LAT = 99.0


class OnspdFormatError(GeoError):
    """The file is not an ONSPD-format CSV this importer understands."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows_read: int
    imported: int
    skipped_terminated: int
    skipped_no_location: int
    skipped_invalid: int
    skipped_other_authority: int
    seconds: float


# A frozen dataclass's __init__ goes through object.__setattr__ per field; setting the slots
# directly is half the cost, and lookups are dominated by building the result.
_new_location = object.__new__
_SET_FIELDS = tuple(
    getattr(PostcodeLocation, name).__set__ for name in ("postcode", "lat", "lon", "authority_gss", "ward_gss")
)


def _location(postcode: str, lat: float, lon: float, authority: str, ward: str) -> PostcodeLocation:
    loc: PostcodeLocation = _new_location(PostcodeLocation)
    set_pc, set_lat, set_lon, set_auth, set_ward = _SET_FIELDS
    set_pc(loc, postcode)
    set_lat(loc, lat)
    set_lon(loc, lon)
    set_auth(loc, authority)
    set_ward(loc, ward)
    return loc


class PostcodeDirectory:
    """In-memory postcode -> location table. Implements the ``Geocoder`` protocol."""

    __slots__ = ("_index", "_lat", "_lon", "_auth_codes", "_auth_idx", "_ward_codes", "_ward_idx", "_postcodes")

    def __init__(
        self,
        postcodes: npt.NDArray[np.str_],
        lat: npt.NDArray[np.float64],
        lon: npt.NDArray[np.float64],
        authority_codes: npt.NDArray[np.str_],
        authority_idx: npt.NDArray[np.int32],
        ward_codes: npt.NDArray[np.str_],
        ward_idx: npt.NDArray[np.int32],
    ) -> None:
        self._postcodes: list[str] = postcodes.tolist()
        self._lat: list[float] = lat.tolist()
        self._lon: list[float] = lon.tolist()
        self._auth_codes: list[str] = authority_codes.tolist()
        self._auth_idx: list[int] = authority_idx.tolist()
        self._ward_codes: list[str] = ward_codes.tolist()
        self._ward_idx: list[int] = ward_idx.tolist()
        self._index: dict[str, int] = {pc: i for i, pc in enumerate(self._postcodes)}

    @classmethod
    def load(cls, path: str | Path) -> PostcodeDirectory:
        """Load an index written by ``import_onspd``."""
        with np.load(Path(path), allow_pickle=False) as data:
            if int(data["format"]) != _INDEX_FORMAT:
                raise OnspdFormatError(f"{path}: unsupported postcode index format {int(data['format'])}")
            return cls(
                data["postcodes"],
                data["lat"],
                data["lon"],
                data["authority_codes"],
                data["authority_idx"],
                data["ward_codes"],
                data["ward_idx"],
            )

    def __len__(self) -> int:
        return len(self._postcodes)

    def __contains__(self, postcode: object) -> bool:
        return isinstance(postcode, str) and normalise_postcode(postcode) in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._postcodes)

    def geocode(self, postcode: str) -> PostcodeLocation:
        """Locate ``postcode``; raises ``InvalidPostcode`` or ``UnknownPostcode``."""
        i = self._index.get(postcode)  # fast path: already normalised
        if i is None:
            # Every key passed validation at import, so a hit needs no regex; only misses are parsed.
            compact = "".join(postcode.upper().split())
            i = self._index.get(f"{compact[:-3]} {compact[-3:]}")
            if i is None:
                raise UnknownPostcode(parse_postcode(postcode))
        return _location(
            self._postcodes[i],
            self._lat[i],
            self._lon[i],
            self._auth_codes[self._auth_idx[i]],
            self._ward_codes[self._ward_idx[i]],
        )

    lookup = geocode

    @property
    def authorities(self) -> frozenset[str]:
        return frozenset(self._auth_codes)


def _read_header(csv_path: Path) -> list[str]:
    try:
        header = pd.read_csv(csv_path, nrows=0, encoding="utf-8-sig")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise OnspdFormatError(f"{csv_path}: not a readable CSV file ({exc})") from exc
    return [str(c).strip().lower() for c in header.columns]


def import_onspd(
    csv_path: str | Path,
    out_path: str | Path,
    *,
    authorities: Collection[str] | None = None,
) -> ImportReport:
    """Import an ONSPD CSV into a ``.npz`` index at ``out_path``.

    ``authorities``: keep only postcodes whose ``oslaua`` is one of these GSS codes (e.g. a council
    and its neighbours); ``None`` keeps all.
    """
    started = time.perf_counter()
    csv_path = Path(csv_path)
    columns = _read_header(csv_path)
    missing = [c for c in ONSPD_COLUMNS if c not in columns]
    if missing:
        raise OnspdFormatError(
            f"{csv_path}: missing ONSPD column(s) {', '.join(missing)}; expected at least {', '.join(ONSPD_COLUMNS)}"
        )
    try:
        frame = pd.read_csv(
            csv_path,
            encoding="utf-8-sig",
            usecols=lambda c: str(c).strip().lower() in ONSPD_COLUMNS,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise OnspdFormatError(f"{csv_path}: could not parse ONSPD CSV ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    rows_read = len(frame)

    live = frame["doterm"].str.strip() == ""
    skipped_terminated = int((~live).sum())
    frame = frame[live]

    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=np.float64)
    lon = pd.to_numeric(frame["long"], errors="coerce").to_numpy(dtype=np.float64)
    located = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) < _NO_LOCATION_LAT) & ~((lat == 0.0) & (lon == 0.0))
    skipped_no_location = int((~located).sum())
    frame, lat, lon = frame[located], lat[located], lon[located]

    compact = frame["pcds"].str.upper().str.replace(r"\s+", "", regex=True)
    postcodes = compact.str[:-3] + " " + compact.str[-3:]
    valid = postcodes.str.fullmatch(POSTCODE_PATTERN).to_numpy(dtype=bool)
    skipped_invalid = int((~valid).sum())
    frame, postcodes, lat, lon = frame[valid], postcodes[valid], lat[valid], lon[valid]

    skipped_other = 0
    if authorities is not None:
        wanted = frame["oslaua"].str.strip().isin(set(authorities)).to_numpy(dtype=bool)
        skipped_other = int((~wanted).sum())
        frame, postcodes, lat, lon = frame[wanted], postcodes[wanted], lat[wanted], lon[wanted]

    # A postcode appears once in ONSPD; keep the first if a hand-made file repeats one.
    first = ~postcodes.duplicated().to_numpy(dtype=bool)
    frame, postcodes, lat, lon = frame[first], postcodes[first], lat[first], lon[first]
    skipped_invalid += int((~first).sum())

    auth_idx, auth_codes = pd.factorize(frame["oslaua"].str.strip())
    ward_idx, ward_codes = pd.factorize(frame["osward"].str.strip())
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp.npz")
    np.savez(
        tmp,
        format=np.int32(_INDEX_FORMAT),
        postcodes=postcodes.to_numpy(dtype=np.str_),
        lat=lat,
        lon=lon,
        authority_codes=np.asarray(auth_codes, dtype=np.str_),
        authority_idx=auth_idx.astype(np.int32),
        ward_codes=np.asarray(ward_codes, dtype=np.str_),
        ward_idx=ward_idx.astype(np.int32),
    )
    tmp.replace(out_path)  # atomic: a reader never sees a half-written index
    return ImportReport(
        rows_read=rows_read,
        imported=len(postcodes),
        skipped_terminated=skipped_terminated,
        skipped_no_location=skipped_no_location,
        skipped_invalid=skipped_invalid,
        skipped_other_authority=skipped_other,
        seconds=round(time.perf_counter() - started, 3),
    )
