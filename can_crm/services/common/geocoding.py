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
    return app.extensions["can_postcodes"]


def known_postcode(postcode: str, field: str) -> str:
    """Refuse, as a field error, a well-formed postcode that the installed directory does not hold."""
    try:
        locate(postcode)
    except ValidationError as exc:
        raise ValidationError(exc.message, field) from None
    return postcode


def locate(postcode: str) -> Place | None:
    """The place of a normalised postcode; None when no directory is installed (a pilot without ONSPD).

    An installed directory that does not know the postcode is an error the person can fix.
    """
    found = directory()
    if found is None:
        return None
    try:
        record = found.geocode(postcode)
    except (UnknownPostcode, InvalidPostcode):
        raise ValidationError("We could not find that postcode. Check it and enter it again", "postcode") from None
    fine, coarse = h3_cells(record.lat, record.lon)
    return Place(record.lat, record.lon, record.ward_gss or None, record.authority_gss or None, fine, coarse)
