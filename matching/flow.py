"""Min-cost flow over a set of candidate pairs (OR-Tools) with penalties: the full-graph reference.

Network: each request supplies one unit; it goes to a volunteer (pair cost) or straight to the
sink (the unserved penalty); each volunteer passes at most its capacity to the sink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.candidates import Pairs
from matching.problem import IntArray, Problem


class SolverError(RuntimeError):
    """OR-Tools did not return an optimal flow (should not happen: every request can go unserved)."""


@dataclass
class FlowSolution:
    """Which candidate pairs carry flow; ``vol_of[r]`` is the volunteer of request r or -1."""

    used: np.ndarray  # type: ignore[type-arg]
    vol_of: IntArray
    cost: int


def solve_flow(p: Problem, pairs: Pairs) -> FlowSolution:
    """Optimal flow restricted to ``pairs``."""
    n, m = p.n, p.m
    sink = n + m
    f = min_cost_flow.SimpleMinCostFlow()
    reqs = np.arange(n, dtype=np.int64)
    vols = np.arange(m, dtype=np.int64)
    tails = np.concatenate([pairs.r, reqs, n + vols])
    heads = np.concatenate([n + pairs.v, np.full(n, sink, dtype=np.int64), np.full(m, sink, dtype=np.int64)])
    caps = np.concatenate([np.ones(len(pairs), dtype=np.int64), np.ones(n, dtype=np.int64), p.vol_cap])
    costs = np.concatenate([pairs.cost, p.penalty(reqs), np.zeros(m, dtype=np.int64)])
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    f.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int64), supplies)
    return solve_and_read(f, n, pairs)


def solve_and_read(f: min_cost_flow.SimpleMinCostFlow, n: int, pairs: Pairs) -> FlowSolution:
    """Solve a flow whose first arcs are ``pairs`` (in order) and read which of them carry flow."""
    status = f.solve()
    if status != f.OPTIMAL:
        raise SolverError(f"min-cost flow status {status}")
    used = f.flows(np.arange(len(pairs), dtype=np.int64)) > 0
    vol_of = np.full(n, -1, dtype=np.int64)
    vol_of[pairs.r[used]] = pairs.v[used]
    return FlowSolution(used=used, vol_of=vol_of, cost=int(f.optimal_cost()))
