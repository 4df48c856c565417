"""Delivery rounds: the instance (validated from JSON), and the one rule book every planner obeys.

Times are minutes from the day's start. A stop's window bounds when its service may *start*
(arriving early means waiting); a round leaves the hub no earlier than the shift starts and is
back by the time it ends. :func:`simulate` is the single check used by the planner, the
baseline and the tests: leave at the shift start, drive, wait if early, serve, go on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from matching.geometry import FloatArray


class RoundsInstanceError(ValueError):
    """The rounds instance is not valid; the message names the item and field at fault."""


@dataclass(frozen=True, slots=True)
class Stop:
    id: str
    lat: float
    lon: float
    parcels: int
    urgency: int
    window: tuple[float, float]
    service_min: float


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    capacity: int
    shift: tuple[float, float]


@dataclass(frozen=True, slots=True)
class RoundsInstance:
    hub: tuple[float, float]
    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    speed_kmh: float
    road_factor: float

    def points(self) -> list[tuple[float, float]]:
        """Hub first, then the stops in order: the node numbering of every matrix."""
        return [self.hub, *((s.lat, s.lon) for s in self.stops)]


@dataclass(frozen=True, slots=True)
class Visit:
    """A round simulated: service start per stop, time back at the hub, km, and whether it obeys every rule."""

    arrivals: tuple[float, ...]
    end_min: float
    km: float
    feasible: bool


#: Minutes a stop may start after its window closes, or a round end after its shift, and still be on time: float
#: rounding of a sum of legs, never a real lateness. The baseline's vectorised check uses the same.
ON_TIME_SLACK_MIN = 1e-9


def simulate(inst: RoundsInstance, km: FloatArray, vehicle: Vehicle, stops: list[int]) -> Visit:
    """Drive ``stops`` (indexes into ``inst.stops``) in order with ``vehicle``; node i+1 in ``km`` is stop i."""
    speed = inst.speed_kmh / 60.0
    t = vehicle.shift[0]
    here = 0
    dist = 0.0
    load = 0
    ok = True
    arrivals = []
    for i in stops:
        s = inst.stops[i]
        leg = float(km[here, i + 1])
        dist += leg
        t = max(t + leg / speed, s.window[0])
        ok &= t <= s.window[1] + ON_TIME_SLACK_MIN
        arrivals.append(t)
        t += s.service_min
        load += s.parcels
        here = i + 1
    leg = float(km[here, 0]) if stops else 0.0
    dist += leg
    t = t + leg / speed if stops else vehicle.shift[0]
    ok &= load <= vehicle.capacity and t <= vehicle.shift[1] + ON_TIME_SLACK_MIN
    return Visit(tuple(arrivals), t, dist, bool(ok))


#: Slack, in minutes, of :func:`insertion_points`' screening: it drops only positions that miss a rule by more than
#: this, so rounding can never hide a feasible one; :func:`simulate` still decides.
SCREEN_SLACK_MIN = 1e-6


def insertion_points(inst: RoundsInstance, km: FloatArray, vehicle: Vehicle, stops: list[int], i: int) -> list[int]:
    """Where stop ``i`` could go into the round ``stops``: its positions, fewest km added first.

    Time windows and the shift only (the caller checks parcels): in O(len(stops)), from when :func:`simulate`
    leaves each stop and the latest start each stop allows driving back from the shift's end, instead of one
    :func:`simulate` per position. Positions within ``SCREEN_SLACK_MIN`` of a rule are kept.
    """
    speed = inst.speed_kmh / 60.0
    s_i = inst.stops[i]
    n = len(stops)
    nodes = [0, *(j + 1 for j in stops), 0]  # hub, the stops, hub
    # Forward: when each position's predecessor is left; the positions after a late stop are all late.
    leave = [vehicle.shift[0]]
    on_time = n + 1  # positions 0 .. on_time - 1
    for p, (t, j) in enumerate(zip(simulate(inst, km, vehicle, stops).arrivals, stops, strict=True)):
        s = inst.stops[j]
        leave.append(t + s.service_min)
        if on_time > n and t > s.window[1] + SCREEN_SLACK_MIN:
            on_time = p + 1
    # Backward: the latest start at each position's successor (the hub's is the shift's end); -inf if none works.
    latest = [vehicle.shift[1]] * (n + 1)
    z = vehicle.shift[1]
    for p in range(n - 1, -1, -1):
        s = inst.stops[stops[p]]
        z = min(s.window[1], z - s.service_min - float(km[nodes[p + 1], nodes[p + 2]]) / speed)
        if z < s.window[0] - SCREEN_SLACK_MIN:
            z = -math.inf
        latest[p] = z
    found = []
    node = i + 1
    for p in range(on_time):
        before, after = nodes[p], nodes[p + 1]
        start = max(leave[p] + float(km[before, node]) / speed, s_i.window[0])
        # No early stop once one position starts too late: a routing server's distances need not obey the
        # triangle inequality, so a later position may still start in time.
        if start > s_i.window[1] + SCREEN_SLACK_MIN:
            continue
        if start + s_i.service_min + float(km[node, after]) / speed <= latest[p] + SCREEN_SLACK_MIN:
            found.append((float(km[before, node] + km[node, after] - km[before, after]), p))
    return [p for _, p in sorted(found)]


def servable_alone(inst: RoundsInstance, km: FloatArray) -> list[str | None]:
    """Per stop, None if some vehicle could serve it on a round of its own, else the reason it cannot."""
    out: list[str | None] = []
    for i, s in enumerate(inst.stops):
        if all(s.parcels > v.capacity for v in inst.vehicles):
            out.append("more_parcels_than_any_vehicle_carries")
        elif not any(simulate(inst, km, v, [i]).feasible for v in inst.vehicles if s.parcels <= v.capacity):
            out.append("window_out_of_reach_of_every_shift")
        else:
            out.append(None)
    return out


def _where(kind: str, i: int, item: Any) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    return f"{kind}[{i}]" + (f" (id {ident!r})" if isinstance(ident, str) else "")


def _num(item: dict[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    if key not in item:
        raise RoundsInstanceError(f"{where}: missing field '{key}'")
    x = item[key]
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not lo <= x <= hi:
        raise RoundsInstanceError(f"{where}: '{key}' must be a number between {lo:g} and {hi:g}, got {x!r}")
    return float(x)


def _int(item: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    x = item.get(key)
    if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
        raise RoundsInstanceError(f"{where}: '{key}' must be a whole number between {lo} and {hi}, got {x!r}")
    return x


def _span(item: dict[str, Any], key: str, where: str) -> tuple[float, float]:
    x = item.get(key)
    bad = RoundsInstanceError(f"{where}: '{key}' must be [start_min, end_min] with 0 <= start <= end, got {x!r}")
    if not isinstance(x, list) or len(x) != 2:
        raise bad
    if not all(not isinstance(t, bool) and isinstance(t, (int, float)) and math.isfinite(t) for t in x):
        raise bad
    if not 0 <= x[0] <= x[1] <= 7 * 24 * 60:
        raise bad
    return float(x[0]), float(x[1])


def _id(item: dict[str, Any], where: str, seen: set[str]) -> str:
    x = item.get("id")
    if not isinstance(x, str) or not x:
        raise RoundsInstanceError(f"{where}: 'id' must be a non-empty string, got {x!r}")
    if x in seen:
        raise RoundsInstanceError(f"{where}: duplicate id")
    seen.add(x)
    return x


def parse_rounds(data: Any) -> RoundsInstance:
    """Validate a decoded JSON rounds instance; raise :class:`RoundsInstanceError` on the first problem."""
    if not isinstance(data, dict):
        raise RoundsInstanceError("instance must be a JSON object with 'hub', 'stops' and 'vehicles'")
    hub = data.get("hub")
    if not isinstance(hub, dict):
        raise RoundsInstanceError("hub: must be an object with 'lat' and 'lon'")
    hub_pt = (_num(hub, "lat", "hub", -90, 90), _num(hub, "lon", "hub", -180, 180))
    for key in ("stops", "vehicles"):
        if not isinstance(data.get(key), list):
            raise RoundsInstanceError(f"instance: '{key}' must be a list")
    stops, seen = [], set[str]()
    for i, item in enumerate(data["stops"]):
        where = _where("stops", i, item)
        if not isinstance(item, dict):
            raise RoundsInstanceError(f"{where}: must be an object")
        stops.append(
            Stop(
                id=_id(item, where, seen),
                lat=_num(item, "lat", where, -90, 90),
                lon=_num(item, "lon", where, -180, 180),
                parcels=_int(item, "parcels", where, 0, 10_000),
                urgency=_int(item, "urgency", where, 1, 3),
                window=_span(item, "window", where),
                service_min=_num(item, "service_min", where, 0, 24 * 60),
            )
        )
    vehicles, seen = [], set[str]()
    for i, item in enumerate(data["vehicles"]):
        where = _where("vehicles", i, item)
        if not isinstance(item, dict):
            raise RoundsInstanceError(f"{where}: must be an object")
        vehicles.append(
            Vehicle(_id(item, where, seen), _int(item, "capacity", where, 0, 100_000), _span(item, "shift", where))
        )
    return RoundsInstance(
        hub=hub_pt,
        stops=tuple(stops),
        vehicles=tuple(vehicles),
        speed_kmh=_num(data, "speed_kmh", "instance", 1, 200),
        road_factor=_num(data, "road_factor", "instance", 1, 5) if "road_factor" in data else 1.3,
    )


def rounds_to_json(inst: RoundsInstance) -> dict[str, Any]:
    """The CLI's instance document (used by the bench and the tests)."""
    return {
        "hub": {"lat": inst.hub[0], "lon": inst.hub[1]},
        "stops": [
            {
                "id": s.id,
                "lat": s.lat,
                "lon": s.lon,
                "parcels": s.parcels,
                "urgency": s.urgency,
                "window": list(s.window),
                "service_min": s.service_min,
            }
            for s in inst.stops
        ],
        "vehicles": [{"id": v.id, "capacity": v.capacity, "shift": list(v.shift)} for v in inst.vehicles],
        "speed_kmh": inst.speed_kmh,
        "road_factor": inst.road_factor,
    }
