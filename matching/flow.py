"""Min-cost flow over a set of candidate pairs (OR-Tools), and dual labels for pricing.

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
    status = f.solve()
    if status != f.OPTIMAL:
        raise SolverError(f"min-cost flow status {status}")
    used = f.flows(np.arange(len(pairs), dtype=np.int64)) > 0
    vol_of = np.full(n, -1, dtype=np.int64)
    vol_of[pairs.r[used]] = pairs.v[used]
    return FlowSolution(used=used, vol_of=vol_of, cost=int(f.optimal_cost()))


def residual_labels(p: Problem, pairs: Pairs, sol: FlowSolution) -> tuple[IntArray, IntArray, int]:
    """Shortest-path labels of the residual graph from a virtual root joined to every node at cost 0.

    OR-Tools does not expose its potentials, so they are recomputed by Bellman-Ford, vectorised
    over arcs. Labels satisfy ``d[head] <= d[tail] + cost`` on every residual arc, which is the
    dual feasibility used by :func:`matching.candidates.price`. Returns (request, volunteer, sink).
    """
    n, m = p.n, p.m
    served = sol.vol_of >= 0
    load = np.bincount(sol.vol_of[served], minlength=m).astype(np.int64)
    spare = load < p.vol_cap
    loaded = load > 0
    pen = p.penalty(np.arange(n, dtype=np.int64))
    assigned_cost = np.zeros(n, dtype=np.int64)
    assigned_cost[pairs.r[sol.used]] = pairs.cost[sol.used]
    # Unused arcs r -> v, grouped by head for a segmented minimum.
    free = ~sol.used
    order = np.argsort(pairs.v[free], kind="stable")
    fr, fv, fc = pairs.r[free][order], pairs.v[free][order], pairs.cost[free][order]
    heads, starts = np.unique(fv, return_index=True)
    srv = np.flatnonzero(served)
    uns = np.flatnonzero(~served)
    dr = np.zeros(n, dtype=np.int64)
    dv = np.zeros(m, dtype=np.int64)
    dt = 0
    for _ in range(n + m + 3):
        # Gauss-Seidel order sink -> volunteers -> requests: one pass follows one r -> v -> r hop.
        dt_new = min(dt, int((dr[srv] + pen[srv]).min()) if srv.size else 0, int(dv[spare].min()) if spare.any() else 0)
        dv_new = dv.copy()
        if fr.size:
            seg = np.minimum.reduceat(dr[fr] + fc, starts)
            dv_new[heads] = np.minimum(dv_new[heads], seg)
        dv_new[loaded] = np.minimum(dv_new[loaded], dt_new)
        dr_new = dr.copy()
        dr_new[srv] = np.minimum(dr[srv], dv_new[sol.vol_of[srv]] - assigned_cost[srv])
        dr_new[uns] = np.minimum(dr[uns], dt_new - pen[uns])
        if dt_new == dt and np.array_equal(dv_new, dv) and np.array_equal(dr_new, dr):
            return dr, dv, dt
        dr, dv, dt = dr_new, dv_new, dt_new
    raise SolverError("negative cycle in the residual graph: flow not optimal")
