"""CAN CRM geography: offline postcodes, H3 cells, authority boundaries, privacy-safe heat maps.

A pure library: no Flask, no ``can_crm`` imports. See each module for details; the names below
are the supported API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aggregate import DEFAULT_K
    from .boundaries import Authority, Boundaries, BoundaryFormatError, OutOfArea, find_default_boundary_file
    from .cells import (
        FINE_RESOLUTION,
        MAP_RESOLUTION,
        Resolution,
        cell_int,
        cell_str,
        cells_for,
        h3_cells,
        h3_cells_array,
    )
    from .directory import ImportReport, OnspdFormatError, PostcodeDirectory, import_onspd
    from .export import to_geojson, to_geojson_str
    from .geocoders import Geocoder, GeocoderUnavailable, PostcodesIoGeocoder, parse_postcodes_io_payload
    from .layers import (
        LAYERS,
        Audience,
        Heatmap,
        LayerInput,
        LayerSpec,
        LayerValues,
        build_heatmap,
        get_layer,
        register_layer,
    )
    from .onspd_gen import make_onspd
    from .postcodes import (
        GeoError,
        InvalidPostcode,
        PostcodeLocation,
        UnknownPostcode,
        is_valid_postcode,
        normalise_postcode,
        parse_postcode,
    )
    from .records import Period, PointRecord, PointSet, VolunteerRecord, VolunteerSet
    from .render import MapFragment, MapOptions, build_map, render_fragment, render_page, render_standalone
    from .zones import HexZoning, PolygonZoning, Zoning

# Imported on first use so that, e.g., a form that only normalises postcodes does not load GeoPandas.
_MODULES = {
    "Audience": "layers",
    "Authority": "boundaries",
    "Boundaries": "boundaries",
    "BoundaryFormatError": "boundaries",
    "DEFAULT_K": "aggregate",
    "FINE_RESOLUTION": "cells",
    "GeoError": "postcodes",
    "Geocoder": "geocoders",
    "GeocoderUnavailable": "geocoders",
    "Heatmap": "layers",
    "HexZoning": "zones",
    "ImportReport": "directory",
    "InvalidPostcode": "postcodes",
    "LAYERS": "layers",
    "LayerInput": "layers",
    "LayerSpec": "layers",
    "LayerValues": "layers",
    "MAP_RESOLUTION": "cells",
    "MapFragment": "render",
    "MapOptions": "render",
    "OnspdFormatError": "directory",
    "OutOfArea": "boundaries",
    "Period": "records",
    "PointRecord": "records",
    "PointSet": "records",
    "PolygonZoning": "zones",
    "PostcodeDirectory": "directory",
    "PostcodeLocation": "postcodes",
    "PostcodesIoGeocoder": "geocoders",
    "Resolution": "cells",
    "UnknownPostcode": "postcodes",
    "VolunteerRecord": "records",
    "VolunteerSet": "records",
    "Zoning": "zones",
    "build_heatmap": "layers",
    "build_map": "render",
    "cell_int": "cells",
    "cell_str": "cells",
    "cells_for": "cells",
    "find_default_boundary_file": "boundaries",
    "get_layer": "layers",
    "h3_cells": "cells",
    "h3_cells_array": "cells",
    "import_onspd": "directory",
    "is_valid_postcode": "postcodes",
    "make_onspd": "onspd_gen",
    "normalise_postcode": "postcodes",
    "parse_postcode": "postcodes",
    "parse_postcodes_io_payload": "geocoders",
    "register_layer": "layers",
    "render_fragment": "render",
    "render_page": "render",
    "render_standalone": "render",
    "to_geojson": "export",
    "to_geojson_str": "export",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_K",
    "FINE_RESOLUTION",
    "LAYERS",
    "MAP_RESOLUTION",
    "Audience",
    "Authority",
    "Boundaries",
    "BoundaryFormatError",
    "GeoError",
    "Geocoder",
    "GeocoderUnavailable",
    "Heatmap",
    "HexZoning",
    "ImportReport",
    "InvalidPostcode",
    "LayerInput",
    "LayerSpec",
    "LayerValues",
    "MapFragment",
    "MapOptions",
    "OnspdFormatError",
    "OutOfArea",
    "Period",
    "PointRecord",
    "PointSet",
    "PolygonZoning",
    "PostcodeDirectory",
    "PostcodeLocation",
    "PostcodesIoGeocoder",
    "Resolution",
    "UnknownPostcode",
    "VolunteerRecord",
    "VolunteerSet",
    "Zoning",
    "build_heatmap",
    "build_map",
    "cell_int",
    "cell_str",
    "cells_for",
    "find_default_boundary_file",
    "get_layer",
    "h3_cells",
    "h3_cells_array",
    "import_onspd",
    "is_valid_postcode",
    "make_onspd",
    "normalise_postcode",
    "parse_postcode",
    "parse_postcodes_io_payload",
    "register_layer",
    "render_fragment",
    "render_page",
    "render_standalone",
    "to_geojson",
    "to_geojson_str",
]
