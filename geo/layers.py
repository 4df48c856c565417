"""Heat-map layers and the registry. Adding a layer is one ``register_layer(LayerSpec(...))`` call."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

import numpy as np
import numpy.typing as npt

from .aggregate import DEFAULT_K, group_stats, reachable_capacity
from .cells import MAP_RESOLUTION
from .records import Period, PointSet, VolunteerSet
from .zones import HexZoning, Zoning

__all__ = [
    "Audience",
    "Heatmap",
    "LayerInput",
    "LayerSpec",
    "LayerValues",
    "LAYERS",
    "build_heatmap",
    "get_layer",
    "register_layer",
]

SEQUENTIAL = ("#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603")
SUPPLY = ("#f7fcf5", "#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")
DIVERGING = ("#2166ac", "#67a9cf", "#d1e5f0", "#fddbc7", "#ef8a62", "#b2182b")


class Audience(Enum):
    """INTERNAL: coordinators (finer cells allowed). SHAREABLE: partners; map resolution or coarser, k >= 2."""

    INTERNAL = "internal"
    SHAREABLE = "shareable"


@dataclass(frozen=True, slots=True, eq=False)
class LayerInput:
    """What the app passes. ``points``: the layer's events (see each layer's ``points_are``);
    ``volunteers``: needed by volunteer-supply and gap."""

    points: PointSet | None = None
    volunteers: VolunteerSet | None = None


@dataclass(frozen=True, slots=True, eq=False)
class LayerValues:
    """A layer's per-zone output before suppression. ``people`` decides k-anonymity;
    ``extra_suppress`` lets a layer hide zones for its own reasons (see gap)."""

    zones: npt.NDArray[np.int64]
    people: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    extra_suppress: npt.NDArray[np.bool_] | None = None


Compute = Callable[[LayerInput, Zoning, int], LayerValues]


@dataclass(frozen=True, slots=True)
class LayerSpec:
    key: str
    title: str
    value_label: str  # legend heading: what the colour means
    points_are: str  # what the app must pass as points
    compute: Compute
    palette: tuple[str, ...] = SEQUENTIAL
    diverging: bool = False
    value_decimals: int = 0
    filterable: bool = True  # date range and request type filters apply


LAYERS: dict[str, LayerSpec] = {}


def register_layer(spec: LayerSpec) -> LayerSpec:
    if spec.key in LAYERS:
        raise ValueError(f"layer {spec.key} is already registered")
    LAYERS[spec.key] = spec
    return spec


def get_layer(key: str) -> LayerSpec:
    try:
        return LAYERS[key]
    except KeyError:
        raise KeyError(f"unknown layer {key!r}; choose one of {', '.join(sorted(LAYERS))}") from None


def _points(inputs: LayerInput) -> PointSet:
    if inputs.points is None:
        raise ValueError("this layer needs points")
    return inputs.points


def _volunteers(inputs: LayerInput) -> VolunteerSet:
    if inputs.volunteers is None:
        raise ValueError("this layer needs volunteers")
    return inputs.volunteers


def count_points(inputs: LayerInput, zoning: Zoning, k: int) -> LayerValues:
    pts = _points(inputs)
    s = group_stats(zoning.assign(pts.lat, pts.lon), pts.person, pts.value)
    return LayerValues(s.zones, s.people, s.total)


def median_value(inputs: LayerInput, zoning: Zoning, k: int) -> LayerValues:
    pts = _points(inputs)
    s = group_stats(zoning.assign(pts.lat, pts.lon), pts.person, pts.value)
    return LayerValues(s.zones, s.people, s.median)


def volunteer_capacity(inputs: LayerInput, zoning: Zoning, k: int) -> LayerValues:
    vols = _volunteers(inputs)
    s = group_stats(zoning.assign(vols.lat, vols.lon), vols.person, vols.capacity)
    return LayerValues(s.zones, s.people, s.total)


def supply_gap(inputs: LayerInput, zoning: Zoning, k: int) -> LayerValues:
    """Need (sum of point values) minus the capacity of volunteers whose travel distance reaches
    the zone centre. Zones reached by 1..k-1 volunteers are hidden: with the need published,
    the gap would give away those few volunteers' capacity."""
    pts, vols = _points(inputs), _volunteers(inputs)
    s = group_stats(zoning.assign(pts.lat, pts.lon), pts.person, pts.value)
    cap, reaching = reachable_capacity(
        zoning.centres(s.zones), vols.lat, vols.lon, vols.person, vols.capacity, vols.max_travel_km
    )
    few = (reaching > 0) & (reaching < k)
    return LayerValues(s.zones, s.people, s.total - cap, few)


register_layer(
    LayerSpec(
        "open-requests",
        "Open requests for help",
        "Open requests",
        "one point per open request, person_id = the resident",
        count_points,
    )
)
register_layer(
    LayerSpec(
        "unmet-need",
        "Unmet need: open requests past their due date",
        "Overdue open requests",
        "one point per open, overdue request, person_id = the resident",
        count_points,
    )
)
register_layer(
    LayerSpec(
        "shielded",
        "Shielded residents",
        "Shielded residents",
        "one point per shielded resident",
        count_points,
        filterable=False,
    )
)
register_layer(
    LayerSpec(
        "volunteer-supply",
        "Volunteer supply: available capacity",
        "Available volunteer capacity",
        "volunteers (VolunteerSet), value = spare capacity",
        volunteer_capacity,
        palette=SUPPLY,
        filterable=False,
    )
)
register_layer(
    LayerSpec(
        "gap",
        "Supply and demand gap: open requests minus volunteer capacity in reach",
        "Need minus capacity in reach (red: short of volunteers)",
        "one point per open request, plus volunteers with capacity and max travel distance",
        supply_gap,
        palette=DIVERGING,
        diverging=True,
    )
)
register_layer(
    LayerSpec(
        "time-to-delivery",
        "Median time from request to delivery",
        "Median hours to delivery",
        "one point per delivered request, value = hours from request to delivery",
        median_value,
        value_decimals=1,
    )
)

register_layer(
    LayerSpec(
        "tracing-cases",
        "Track and Trace: cases by area",
        "Cases",
        "one point per case (its onset day), person_id = the person's tracing key",
        count_points,
    )
)


@dataclass(frozen=True, slots=True, eq=False)
class Heatmap:
    """A layer aggregated to zones with suppression applied. ``value``/``people`` are NaN/0
    where ``suppressed``, so nothing downstream can leak them by mistake."""

    layer: LayerSpec
    zoning: Zoning
    k: int
    audience: Audience
    period: Period
    request_types: tuple[str, ...] | None
    zones: npt.NDArray[np.int64]
    people: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    suppressed: npt.NDArray[np.bool_]
    generated_on: date = field(default_factory=date.today)

    def __len__(self) -> int:
        return int(self.zones.shape[0])

    @property
    def published(self) -> npt.NDArray[np.bool_]:
        return ~self.suppressed

    def describe(self) -> str:
        """Subtitle: when, what filter, how protected."""
        parts = [self.period.describe()]
        if self.request_types:
            parts.append("request types: " + ", ".join(self.request_types))
        parts.append(f"areas with fewer than {self.k} people are hidden")
        return "; ".join(parts)


def build_heatmap(
    layer: str | LayerSpec,
    inputs: LayerInput,
    *,
    k: int = DEFAULT_K,
    zoning: Zoning | None = None,
    audience: Audience = Audience.SHAREABLE,
    period: Period | None = None,
    request_types: Collection[str] | None = None,
) -> Heatmap:
    """Aggregate one layer. Filters apply to ``inputs.points``; the shareable audience refuses
    cells finer than the map resolution and k below 2."""
    spec = get_layer(layer) if isinstance(layer, str) else layer
    zoning = zoning if zoning is not None else HexZoning(int(MAP_RESOLUTION))
    if k < 1:
        raise ValueError("k must be at least 1")
    if audience is Audience.SHAREABLE:
        if k < 2:
            raise ValueError("a shareable map needs k of at least 2")
        if zoning.resolution is not None and zoning.resolution > int(MAP_RESOLUTION):
            raise ValueError(f"a shareable map may not use H3 cells finer than resolution {int(MAP_RESOLUTION)}")
    period = period or Period()
    types = tuple(sorted(request_types)) if request_types is not None else None
    if inputs.points is not None and spec.filterable and ((period.start or period.end) or types is not None):
        inputs = LayerInput(inputs.points.filtered(period, types), inputs.volunteers)
    raw = spec.compute(inputs, zoning, k)
    suppressed = raw.people < k
    if raw.extra_suppress is not None:
        suppressed = suppressed | raw.extra_suppress
    value = np.where(suppressed, np.nan, raw.value)
    people = np.where(suppressed, 0, raw.people).astype(np.int64)
    return Heatmap(spec, zoning, k, audience, period, types, raw.zones, people, value, suppressed)
