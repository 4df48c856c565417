"""UK postcode normalisation and validation, and the located-postcode record.

Normalising is pure formatting and never raises; validating (``parse_postcode``) raises
``InvalidPostcode`` with the GOV.UK wording a form shows next to the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "POSTCODE_PATTERN",
    "GeoError",
    "InvalidPostcode",
    "PostcodeLocation",
    "UnknownPostcode",
    "is_valid_postcode",
    "normalise_postcode",
    "parse_postcode",
]

# Outward code: A9, A99, AA9, AA99, A9A, AA9A; inward: 9AA. Unit letters never use C I K M O V.
POSTCODE_PATTERN = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}|GIR 0AA)"
_FULL = re.compile(f"^{POSTCODE_PATTERN}$")
_OUTWARD_ONLY = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_INWARD_LEN = 3


class GeoError(Exception):
    """Base class for errors this library raises on bad input."""


class InvalidPostcode(GeoError, ValueError):
    """The text is not a well-formed UK postcode. ``message`` is GOV.UK wording for the form."""

    def __init__(self, postcode: str, message: str) -> None:
        super().__init__(message)
        self.postcode = postcode
        self.message = message


class UnknownPostcode(GeoError, LookupError):
    """A well-formed postcode that the directory does not hold (or that has no location)."""

    def __init__(self, postcode: str) -> None:
        self.postcode = postcode
        self.message = "Enter a real postcode"
        super().__init__(f"{self.message}: {postcode} is not in the postcode directory")


@dataclass(frozen=True, slots=True)
class PostcodeLocation:
    """Where a postcode is: WGS84 centroid and the ONS codes of the authority and ward it lies in."""

    postcode: str
    lat: float
    lon: float
    authority_gss: str
    ward_gss: str


def normalise_postcode(text: str) -> str:
    """Upper-case, drop whitespace and put one space before the inward code ("w69ju" -> "W6 9JU").

    Idempotent for any input. Text that cannot be a postcode is returned upper-cased with its
    whitespace removed, so validation can report it.
    """
    compact = "".join(text.upper().split())
    if 5 <= len(compact) <= 7 and compact.isascii() and compact.isalnum():
        return f"{compact[:-_INWARD_LEN]} {compact[-_INWARD_LEN:]}"
    return compact


def postcode_district(postcode: str) -> str:
    """The outward code of a normalised postcode ("W6 9AB" -> "W6"): roughly where, never the exact address."""
    return postcode.split(" ", 1)[0] if " " in postcode else postcode[:-_INWARD_LEN] or postcode


def is_valid_postcode(text: str) -> bool:
    """True when ``text`` normalises to a well-formed full UK postcode."""
    return _FULL.match(normalise_postcode(text)) is not None


def parse_postcode(text: str) -> str:
    """Return the normalised postcode or raise ``InvalidPostcode`` with the message for the form."""
    postcode = normalise_postcode(text)
    if not postcode:
        raise InvalidPostcode(text, "Enter a postcode")
    if _FULL.match(postcode):
        return postcode
    if _OUTWARD_ONLY.match(postcode):
        raise InvalidPostcode(text, "Enter a full UK postcode, like SW1A 1AA")
    raise InvalidPostcode(text, "Enter a real postcode")
