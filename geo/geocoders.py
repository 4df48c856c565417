"""The ``Geocoder`` interface: the offline ``PostcodeDirectory`` or, where there is internet, postcodes.io."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from .postcodes import GeoError, PostcodeLocation, UnknownPostcode, parse_postcode

__all__ = ["Geocoder", "GeocoderUnavailable", "PostcodesIoGeocoder", "parse_postcodes_io_payload"]


@runtime_checkable
class Geocoder(Protocol):
    def geocode(self, postcode: str) -> PostcodeLocation:
        """Locate a postcode; raise ``InvalidPostcode``, ``UnknownPostcode`` or ``GeocoderUnavailable``."""
        ...


class GeocoderUnavailable(GeoError):
    """The online service could not be reached or answered with an error; try again later."""


def parse_postcodes_io_payload(payload: Mapping[str, Any]) -> PostcodeLocation:
    """Turn a postcodes.io ``GET /postcodes/{postcode}`` JSON body into a location."""
    result = payload.get("result")
    if payload.get("status") != 200 or not isinstance(result, Mapping):
        raise GeocoderUnavailable(f"unexpected postcodes.io response status {payload.get('status')!r}")
    postcode = parse_postcode(str(result.get("postcode", "")))
    lat, lon = result.get("latitude"), result.get("longitude")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        raise UnknownPostcode(postcode)  # postcodes.io knows it but has no grid reference
    codes = result.get("codes")
    codes = codes if isinstance(codes, Mapping) else {}
    return PostcodeLocation(
        postcode=postcode,
        lat=float(lat),
        lon=float(lon),
        authority_gss=str(codes.get("admin_district") or ""),
        ward_gss=str(codes.get("admin_ward") or ""),
    )


Fetch = Callable[[str, float], tuple[int, bytes]]


def _urllib_fetch(url: str, timeout: float) -> tuple[int, bytes]:
    # S310: the URL is built by PostcodesIoGeocoder from a base URL checked to be http(s).
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "can-crm-geo"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


class PostcodesIoGeocoder:
    """Online geocoder for postcodes.io (or a self-hosted instance at ``base_url``)."""

    def __init__(self, base_url: str = "https://api.postcodes.io", *, timeout: float = 5.0, fetch: Fetch | None = None):
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._fetch = fetch or _urllib_fetch

    def url_for(self, postcode: str) -> str:
        return f"{self.base_url}/postcodes/{urllib.parse.quote(postcode)}"

    def geocode(self, postcode: str) -> PostcodeLocation:
        normalised = parse_postcode(postcode)
        try:
            status, body = self._fetch(self.url_for(normalised), self.timeout)
        except (OSError, urllib.error.URLError) as exc:
            raise GeocoderUnavailable(f"postcodes.io unreachable: {exc}") from exc
        if status == 404:
            raise UnknownPostcode(normalised)
        if status != 200:
            raise GeocoderUnavailable(f"postcodes.io answered HTTP {status}")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise GeocoderUnavailable("postcodes.io sent a body that is not JSON") from exc
        if not isinstance(payload, Mapping):
            raise GeocoderUnavailable("postcodes.io sent an unexpected JSON body")
        return parse_postcodes_io_payload(payload)
