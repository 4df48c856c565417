"""The baseline rounds: what a careful coordinator with a map does.

Each volunteer in turn drives to the nearest stop that still fits (parcels, window, back
before the shift ends) until nothing fits; then each round is tidied with 2-opt. The planner
also starts from it on large instances, so it never returns anything worse.
"""

from __future__ import annotations

from matching.geometry import FloatArray
from matching.rounds_model import RoundsInstance, Vehicle, simulate


def nearest_neighbour(inst: RoundsInstance, km: FloatArray) -> list[list[int]]:
    """Baseline: each vehicle takes the nearest stop that still fits, then its round gets 2-opt."""
    left = set(range(len(inst.stops)))
    plans: list[list[int]] = []
    for veh in inst.vehicles:
        plan: list[int] = []
        here = 0
        while left:
            order = sorted(left, key=lambda i: (km[here, i + 1], i))
            nxt = next((i for i in order if simulate(inst, km, veh, [*plan, i]).feasible), None)
            if nxt is None:
                break
            plan.append(nxt)
            left.discard(nxt)
            here = nxt + 1
        plans.append(two_opt(inst, km, veh, plan))
    return plans


def two_opt(inst: RoundsInstance, km: FloatArray, veh: Vehicle, plan: list[int]) -> list[int]:
    """Reverse segments while that shortens the round and keeps it feasible (first improvement)."""
    best = simulate(inst, km, veh, plan).km
    improved = True
    while improved:
        improved = False
        for i in range(len(plan) - 1):
            for j in range(i + 1, len(plan)):
                cand = plan[:i] + plan[i : j + 1][::-1] + plan[j + 1 :]
                visit = simulate(inst, km, veh, cand)
                if visit.feasible and visit.km < best - 1e-9:
                    plan, best, improved = cand, visit.km, True
    return plan
