"""``python -m matching bench-rounds``: the planner beside a nearest-neighbour + 2-opt baseline.

Both run on the same generated instance in one run (see :mod:`matching.rounds_baseline`).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from matching.distances import StraightLine
from matching.rounds import build_result, plan_rounds
from matching.rounds_baseline import nearest_neighbour
from matching.rounds_model import RoundsInstance, Stop, Vehicle, parse_rounds, rounds_to_json, servable_alone

HUB = (51.49, -0.22)
KM_PER_DEG_LAT = 111.2
WINDOWS = ((480.0, 720.0), (720.0, 1020.0), (480.0, 1020.0))  # morning, afternoon, any time
SHIFTS = ((480.0, 780.0), (720.0, 1020.0), (480.0, 1020.0))


def rounds_instance(n_stops: int, n_vehicles: int, seed: int = 0) -> RoundsInstance:
    """Stops clustered in a ~12 km borough around the hub; cars of 20-40 parcels on half or whole days."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, size=(8, 2))
    c = rng.integers(0, 8, size=n_stops)
    y = np.clip(centres[c, 0] + rng.normal(0, 1.2, n_stops), -6, 6)
    x = np.clip(centres[c, 1] + rng.normal(0, 1.2, n_stops), -6, 6)
    lat = HUB[0] + y / KM_PER_DEG_LAT
    lon = HUB[1] + x / (KM_PER_DEG_LAT * np.cos(np.radians(HUB[0])))
    win = rng.choice(3, size=n_stops, p=[0.4, 0.3, 0.3])
    stops = tuple(
        Stop(
            id=f"S{i:05d}",
            lat=float(lat[i]),
            lon=float(lon[i]),
            parcels=int(rng.integers(1, 4)),
            urgency=int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15])),
            window=WINDOWS[int(win[i])],
            service_min=float(rng.integers(3, 9)),
        )
        for i in range(n_stops)
    )
    shift = rng.choice(3, size=n_vehicles, p=[0.35, 0.35, 0.3])
    vehicles = tuple(Vehicle(f"V{k:04d}", int(rng.integers(20, 41)), SHIFTS[int(shift[k])]) for k in range(n_vehicles))
    return RoundsInstance(HUB, stops, vehicles, speed_kmh=30.0, road_factor=1.3)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the processes that searched sectors)."""
    children = os.times()
    return time.process_time() + children.children_user + children.children_system


def run_rounds_bench(
    n_stops: int, n_vehicles: int, time_limit_s: float, seed: int = 0, workers: int = 1
) -> dict[str, Any]:
    """Plan through the JSON path and run the baseline; return one JSON-able line."""
    inst = rounds_instance(n_stops, n_vehicles, seed)
    text = json.dumps(rounds_to_json(inst))
    t0 = time.perf_counter()
    cpu0 = _cpu()
    parsed = parse_rounds(json.loads(text))
    res = plan_rounds(parsed, time_limit_s, workers=workers)
    seconds = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    servable = sum(1 for why in servable_alone(inst, km) if why is None)
    t1 = time.perf_counter()
    base = build_result(inst, km, nearest_neighbour(inst, km))
    base_seconds = time.perf_counter() - t1
    served = sum(res.served_by_urgency.values())
    base_served = sum(base.served_by_urgency.values())
    saving = 1 - res.total_km / base.total_km if base.total_km else 0.0
    return {
        "stops": n_stops,
        "vehicles": n_vehicles,
        "seed": seed,
        "time_limit_s": time_limit_s,
        "workers": workers,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "total_km": res.total_km,
        "served": served,
        "servable": servable,
        "served_by_urgency": [res.served_by_urgency[u] for u in (3, 2, 1)],
        "routes": len(res.routes),
        "baseline": {
            "method": "nearest neighbour + 2-opt",
            "seconds": round(base_seconds, 3),
            "total_km": base.total_km,
            "served": base_served,
            "served_by_urgency": [base.served_by_urgency[u] for u in (3, 2, 1)],
        },
        "km_saving_vs_baseline": round(saving, 4),
        "goal_met": served == servable and served >= base_served and saving >= 0.15,
    }
