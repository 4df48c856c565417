"""Which authority is responsible for a place: the boundary file, loaded once per app.

The handoff work uses `responsible_authority` to flag a resident who lives outside this authority and to name
the authority that should help them instead.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)
_lock = threading.Lock()
_KEY = "can_boundaries"


def _load(setting: str, what: str) -> Any:
    """`geo.Boundaries` from the file named by `setting`, loaded once per app; None when unset or unreadable."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = f"{_KEY}.{setting}"
    if key not in app.extensions:
        with _lock:
            if key not in app.extensions:
                from geo import Boundaries, BoundaryFormatError  # lazy: geo loads folium/geopandas

                configured = app.config.get(setting)
                path = Path(configured or "")
                loaded = None
                if configured and path.is_file():
                    try:
                        loaded = Boundaries.from_file(path)
                    except BoundaryFormatError:
                        log.warning("%s (%s) is unreadable: %s", setting, path, what)
                elif configured:
                    log.warning("no file at %s (%s): %s", path, setting, what)
                app.extensions[key] = loaded
    return app.extensions[key]


def boundaries() -> Any:
    """The authority boundaries (`geo.Boundaries`) from BOUNDARIES_FILE, or None when the file is missing."""
    return _load("BOUNDARIES_FILE", "no out-of-area checks or outlines")


def wards() -> Any:
    """The council's ward boundaries from WARD_BOUNDARIES_FILE, or None (shared maps then use hexagons)."""
    return _load("WARD_BOUNDARIES_FILE", "shared maps use hexagons")


def home_authority() -> Any:
    """This instance's own authority (`geo.Authority`), or None when the boundaries do not include it."""
    found = boundaries()
    code = current_app.config["AUTHORITY_GSS_CODE"]
    if found is None or code not in found:
        return None
    return found.authority(code)


def responsible_authority(lat: float | None, lon: float | None) -> Any:
    """`geo.OutOfArea` when the point lies outside this authority (`.responsible` names who is responsible,
    None if no loaded boundary holds it); None when the point is inside, unknown, or no boundaries are loaded."""
    if lat is None or lon is None:
        return None
    found = boundaries()
    code = current_app.config["AUTHORITY_GSS_CODE"]
    if found is None or code not in found:
        return None
    return found.out_of_area(float(lat), float(lon), code)


def authority_at(lat: float, lon: float) -> str | None:
    """The GSS code of the loaded authority boundary holding the point, or None."""
    found = boundaries()
    if found is None:
        return None
    authority = found.authority_at(float(lat), float(lon))
    return str(authority.gss_code) if authority is not None else None
