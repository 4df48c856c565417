"""Postcode to place, through the offline directory that geo/ builds from ONSPD."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from can_crm.services.common.errors import ValidationError
from geo.cells import h3_cells
from geo.directory import PostcodeDirectory
from geo.postcodes import InvalidPostcode, UnknownPostcode

_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    ward_code: str | None
    authority_code: str | None
    h3_fine: str
    h3_map: str


def directory() -> PostcodeDirectory | None:
    """The imported postcode directory, loaded once per app on first use; None if none is installed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "can_postcodes" not in app.extensions:
        with _lock:
            path = Path(app.config["POSTCODE_INDEX"])
            app.extensions["can_postcodes"] = PostcodeDirectory.load(path) if path.is_file() else None
    found: PostcodeDirectory | None = app.extensions["can_postcodes"]
    return found


def locate(postcode: str) -> Place | None:
    """The place of a normalised postcode, or None when we cannot place it: no directory is installed (a pilot
    without ONSPD), or the directory does not list it yet (a new-build street). Never a refusal: nobody is
    turned away because our data is incomplete."""
    found = directory()
    if found is None:
        return None
    try:
        record = found.geocode(postcode)
    except (UnknownPostcode, InvalidPostcode):
        return None
    return _place(record.lat, record.lon, record.ward_gss or None, record.authority_gss or None)


def known_place(postcode: str, field: str) -> Place:
    """The place of a postcode the directory lists, for a coordinator setting a location from a nearby one."""
    place = locate(postcode)
    if place is None:
        raise ValidationError("Enter a nearby postcode that the postcode directory lists", field)
    return place


def place_at(lat: float, lon: float, authority_code: str | None) -> Place:
    """A place from coordinates a coordinator entered (no ward: the directory gives wards by postcode)."""
    return _place(lat, lon, None, authority_code)


def _place(lat: float, lon: float, ward_code: str | None, authority_code: str | None) -> Place:
    fine, coarse = h3_cells(lat, lon)
    return Place(lat, lon, ward_code, authority_code, fine, coarse)
