"""Heat-map layers this app adds to geo's registry (geo itself knows nothing of feedback or outreach).

Registered on first use, not at import: importing geo loads folium and geopandas, which most pages never need.
"""

from __future__ import annotations

from typing import Any

NOT_RECEIVED = "not-received"


def register() -> None:
    from geo import LAYERS, LayerSpec, register_layer  # lazy: geo loads folium/geopandas
    from geo.layers import count_points  # lazy: as above

    if NOT_RECEIVED in LAYERS:
        return
    register_layer(
        LayerSpec(
            NOT_RECEIVED,
            "Help not received: residents who said help did not arrive, or only partly",
            "Requests not received",
            "one point per request the resident said was not received or only partly, person_id = the resident",
            count_points,
        )
    )


def get_layer(key: str) -> Any:
    """geo's `get_layer`, with this app's layers registered first."""
    from geo import get_layer as geo_get_layer  # lazy: as above

    register()
    return geo_get_layer(key)
