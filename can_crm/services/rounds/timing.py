"""One round timed by the engine's own rule book (`matching.rounds_model.simulate`), and why it breaks a rule.

The planner, the coordinator's edits and the tests all time a round the same way: leave the hub at the shift
start, drive (straight line x road factor at the plan's speed), wait if early, serve, go on, back to the hub.
Nothing here is personal: the engine sees ids, coordinates, parcels and minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
from can_crm.services.common.times import clock
from matching.distances import StraightLine
from matching.rounds_model import RoundsInstance, Stop, Vehicle, simulate

EPSILON = 1e-9


def engine_stop(plan: RoundPlan, stop: RoundStop, lat: float, lon: float) -> Stop:
    return Stop(
        id=f"stop-{stop.request_id}",
        lat=lat,
        lon=lon,
        parcels=stop.parcels,
        urgency=stop.urgency,
        window=(float(stop.window_start_min), float(stop.window_end_min)),
        service_min=float(plan.service_min),
    )


def engine_vehicle(rnd: DeliveryRound) -> Vehicle:
    return Vehicle(
        id=f"round-{rnd.id}", capacity=rnd.capacity, shift=(float(rnd.shift_start_min), float(rnd.shift_end_min))
    )


@dataclass(frozen=True)
class Timing:
    """A round timed: service start per stop, back at the hub, km, and the first rule it breaks (or None)."""

    arrivals: tuple[float, ...]
    end_min: float
    km: float
    problem: str | None


def time_round(
    plan: RoundPlan,
    rnd: DeliveryRound,
    stops: Sequence[RoundStop],
    places: dict[int, tuple[float, float]],
    references: dict[int, str],
    who: str,
) -> Timing:
    """Time `stops` in this order on `rnd`. `places` and `references` are keyed by request id; `who` names
    the volunteer in messages ("Sam Driver's")."""
    inst = RoundsInstance(
        hub=(plan.hub_lat, plan.hub_lon),
        stops=tuple(engine_stop(plan, s, *places[s.request_id]) for s in stops),
        vehicles=(engine_vehicle(rnd),),
        speed_kmh=plan.speed_kmh,
        road_factor=plan.road_factor,
    )
    km = StraightLine(plan.road_factor).matrix_km(inst.points())
    visit = simulate(inst, km, inst.vehicles[0], list(range(len(stops))))
    return Timing(
        visit.arrivals, visit.end_min, visit.km, _problem(rnd, stops, visit.arrivals, visit.end_min, references, who)
    )


def _problem(
    rnd: DeliveryRound,
    stops: Sequence[RoundStop],
    arrivals: Sequence[float],
    end_min: float,
    references: dict[int, str],
    who: str,
) -> str | None:
    load = sum(s.parcels for s in stops)
    if load > rnd.capacity:
        return f"{who} car would carry {load} parcels, more than the {rnd.capacity} it takes"
    for stop, arrival in zip(stops, arrivals, strict=True):
        if arrival > stop.window_end_min + EPSILON:
            return (
                f"{who} round would reach {references[stop.request_id]} at {clock(arrival)}, after its delivery "
                f"window closes at {clock(stop.window_end_min)}"
            )
    if stops and end_min > rnd.shift_end_min + EPSILON:
        back, ends = clock(end_min), clock(rnd.shift_end_min)
        return f"{who} round would be back at the hub at {back}, after the shift ends at {ends}"
    return None
