"""The exact method in two phases, so no cost ever carries the huge lexicographic constants.

Phase 1, how many of each urgency: the sets of requests that can be served together form a
matroid (a transversal matroid with capacities), so one answer reaches the largest possible
count of urgency 3, of urgency 3 and 2 together, and of all requests at once; each prefix count
is a maximum flow (OR-Tools push-relabel). A count is proven
for the whole feasibility graph by Koenig's theorem: the requests and volunteers reachable from
unmatched requests by alternating paths, Z, must have no feasible pair from a request in Z to
a volunteer outside Z. That is checked without listing the graph: per skill group, a KD-tree
over the requests in Z is asked for the nearest ones to each volunteer outside Z, within that
volunteer's own range. Pairs that break it are added and the matchings redone.

Phase 2, fewest km with those counts: a min-cost flow (OR-Tools) in which urgency class ``u``
supplies exactly ``a_u`` units through its requests. Every feasible flow has the lexicographic
maximum served counts, so costs are only ``T * metres - bonus`` (no penalty constants) and
the dual labels stay in metres: pricing searches small radii. The restricted optimum is the
full optimum when no excluded pair has negative reduced cost (see :func:`class_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow
from scipy.spatial import cKDTree

from matching.candidates import THREADS, Pairs, feasible_only, positions
from matching.flow import FlowSolution, SolverError, solve_and_read
from matching.geometry import chord_for_km
from matching.problem import IntArray, Problem

URGENCIES = (3, 2, 1)


@dataclass(frozen=True)
class ProvenPrefix:
    """A prefix count proven for the whole graph: the flow's size and the pairs it used.

    Candidate pairs are only ever added, and a maximum flow on more pairs is at least as large and never above
    the whole graph's, which the proof says it already reaches: later rounds take the count as it is instead of
    solving that flow again (at 100,000 x 50,000 urgency 3 and 2 were proven in the first round, and solving
    them again cost about 10 s of a 60 s limit over the next four).
    """

    size: int
    used: Pairs


@dataclass
class CountsRound:
    """One round of phase 1: the prefix counts on the candidate pairs and what breaks the proof.

    ``used`` holds every pair one of the prefix flows used (a proven prefix's from the round that solved it). It
    always holds an answer reaching all of ``counts`` at once (Mendelsohn-Dulmage, applied twice: the urgent
    flow's requests and the next flow's volunteers are covered by one matching inside their union, and so on),
    so a fixed-count flow on ``used`` is feasible, and on a few hundred thousand pairs it is quick where the flow
    on every candidate pair would not fit the time. ``vol_of`` is the last flow's answer: the most served, but not
    the most urgent first. ``proven`` is for the next round.
    """

    counts: dict[int, int]
    violators: Pairs
    vol_of: IntArray
    used: Pairs
    proven: dict[int, ProvenPrefix]


#: Pairs a round adds for each volunteer outside the cover (the solver asks for more at region scale).
COVER_PAIRS_PER_VOLUNTEER = 4


def counts_round(
    p: Problem,
    pairs: Pairs,
    per_volunteer: int = COVER_PAIRS_PER_VOLUNTEER,
    proven: dict[int, ProvenPrefix] | None = None,
) -> CountsRound:
    """Maximum flows of the urgency prefixes on ``pairs``, and full-graph pairs contradicting them.

    One OR-Tools max-flow network (source -> request -> volunteer -> sink); each prefix only
    opens the source arcs of its requests. The source side of the minimum cut is Z. A prefix in
    ``proven`` (from an earlier round, on fewer pairs) is taken as it is; the last, every request,
    is always solved for the round's answer.
    """
    n, m = p.n, p.m
    source, sink = n + m, n + m + 1
    reqs = np.arange(n, dtype=np.int64)
    f = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(n, source, dtype=np.int64), pairs.r, n + np.arange(m, dtype=np.int64)])
    heads = np.concatenate([reqs, n + pairs.v, np.full(m, sink, dtype=np.int64)])
    caps = np.concatenate([np.ones(n + len(pairs), dtype=np.int64), np.minimum(p.vol_cap, n)])
    f.add_arcs_with_capacity(tails, heads, caps)
    counts: dict[int, int] = {}
    found: list[Pairs] = []
    now_proven: dict[int, ProvenPrefix] = {}
    total = 0
    vol_of = np.full(n, -1, dtype=np.int64)
    used_any = np.zeros(len(pairs), dtype=np.bool_)
    for u in URGENCIES:
        known = (proven or {}).get(u) if u != URGENCIES[-1] else None
        if known is not None:
            counts[u] = known.size - total
            total = known.size
            now_proven[u] = known
            used_any[positions(pairs, known.used)] = True  # its pairs are still candidates: pairs only grow
            continue
        f.set_arcs_capacity(reqs, (p.req_urgency >= u).astype(np.int64))
        if f.solve(source, sink) != f.OPTIMAL:
            raise SolverError("max flow failed")
        size = int(f.optimal_flow())
        counts[u] = size - total
        total = size
        side = np.asarray(f.get_source_side_min_cut(), dtype=np.int64)
        zr = np.zeros(n, dtype=np.bool_)
        zr[side[side < n]] = True
        zv = np.zeros(m, dtype=np.bool_)
        zv[side[(side >= n) & (side < source)] - n] = True
        used = f.flows(np.arange(n, n + len(pairs), dtype=np.int64)) > 0
        used_any |= used
        spare = np.bincount(pairs.v[used], minlength=m) < p.vol_cap
        violators = _cover_violators(p, zr, zv, spare, per_volunteer)
        found.append(violators)
        if len(violators) == 0:
            now_proven[u] = ProvenPrefix(size, pairs.take(used))
        if u == 1:
            vol_of[pairs.r[used]] = pairs.v[used]
    return CountsRound(counts, Pairs.concat(found), vol_of, pairs.take(used_any), now_proven)


def _cover_violators(p: Problem, zr: np.ndarray, zv: np.ndarray, spare: np.ndarray, k: int) -> Pairs:  # type: ignore[type-arg]
    """Feasible pairs from a request in Z to a volunteer outside Z (none: the count is proven).

    Asked from the volunteer's side, so each volunteer's own range is the search radius and no
    pair is missed: the nearest requests in Z within range, then exclusions filtered; when all
    ``k`` nearest are excluded, a ball query settles that volunteer.
    """
    parts: list[Pairs] = []
    outside = ~zv & (p.vol_cap > 0)
    for grp in p.groups:
        rq = grp.requests[zr[grp.requests]]
        vs = grp.members[outside[grp.members]]
        if rq.size == 0 or vs.size == 0:
            continue
        # From the requests' side first: each request in Z gets its nearest volunteers with room
        # (each such pair closes an augmenting path; a farther volunteer of longer range may be
        # missed, which the volunteers' side below finds). Without these, new pairs crowd onto
        # the few requests at Z's edge and the flow grows by a layer per round.
        vsp = vs[spare[vs]]
        if vsp.size:
            kr = min(k, vsp.size)
            bound = float(chord_for_km(p.vol_max_km[vsp].max()))
            _, vidx = cKDTree(p.vol_xyz[vsp]).query(p.req_xyz[rq], k=kr, distance_upper_bound=bound, workers=THREADS)
            vidx = np.asarray(vidx).reshape(rq.size, kr)
            hit = vidx < vsp.size
            if hit.any():
                parts.append(feasible_only(p, np.broadcast_to(rq[:, None], vidx.shape)[hit], vsp[vidx[hit]]))
        tree = cKDTree(p.req_xyz[rq])
        kk = min(k, rq.size)
        chord = chord_for_km(p.vol_max_km[vs])
        dist, idx = tree.query(p.vol_xyz[vs], k=kk, distance_upper_bound=float(chord.max()), workers=THREADS)
        dist = np.asarray(dist).reshape(vs.size, kk)
        idx = np.asarray(idx).reshape(vs.size, kk)
        near = dist <= chord[:, None]
        if not near.any():
            continue
        vv = np.broadcast_to(vs[:, None], idx.shape)[near]
        cand = feasible_only(p, rq[idx[near]], vv)
        parts.append(cand)
        # Volunteers whose k nearest were all in range yet none feasible (exclusions): look wider.
        full = near.all(axis=1)
        if full.any():
            ok = np.zeros(p.m, dtype=np.bool_)
            ok[cand.v] = True
            for v in vs[full & ~ok[vs]].tolist():
                hits = np.asarray(tree.query_ball_point(p.vol_xyz[v], float(chord_for_km(p.vol_max_km[v]))))
                if hits.size:
                    parts.append(feasible_only(p, rq[hits.astype(np.int64)], np.full(hits.size, v, dtype=np.int64)))
    return Pairs.concat(parts)


def solve_fixed_counts(p: Problem, pairs: Pairs, counts: dict[int, int]) -> FlowSolution:
    """Least-cost flow on ``pairs`` serving exactly ``counts[u]`` requests of each urgency ``u``."""
    n, m = p.n, p.m
    sink = n + m
    f = min_cost_flow.SimpleMinCostFlow()
    reqs = np.arange(n, dtype=np.int64)
    vols = np.arange(m, dtype=np.int64)
    tails = np.concatenate([pairs.r, sink + p.req_urgency, n + vols])
    heads = np.concatenate([n + pairs.v, reqs, np.full(m, sink, dtype=np.int64)])
    caps = np.concatenate([np.ones(len(pairs) + n, dtype=np.int64), p.vol_cap])
    costs = np.concatenate([pairs.cost, np.zeros(n + m, dtype=np.int64)])
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(sink + 4, dtype=np.int64)
    for u in URGENCIES:
        supplies[sink + u] = counts[u]
    supplies[sink] = -sum(counts.values())
    f.set_nodes_supplies(np.arange(sink + 4, dtype=np.int64), supplies)
    return solve_and_read(f, n, pairs)


def class_labels(p: Problem, pairs: Pairs, sol: FlowSolution) -> tuple[IntArray, IntArray]:
    """Shortest-path labels of the residual graph of :func:`solve_fixed_counts` (requests, volunteers).

    Bellman-Ford from a virtual root joined to every node at cost 0, vectorised over arcs in the
    order class -> sink -> volunteers -> requests. The labels satisfy ``d[head] <= d[tail] + cost``
    on every residual arc, so a pair outside ``pairs`` can improve the flow only if
    ``dr[r] + c - dv[v] < 0``: :func:`matching.candidates.price` finds those.
    """
    n, m = p.n, p.m
    served = sol.vol_of >= 0
    load = np.bincount(sol.vol_of[served], minlength=m).astype(np.int64)
    spare = load < p.vol_cap
    loaded = load > 0
    assigned_cost = np.zeros(n, dtype=np.int64)
    assigned_cost[pairs.r[sol.used]] = pairs.cost[sol.used]
    free = ~sol.used
    order = np.argsort(pairs.v[free], kind="stable")
    fr, fv, fc = pairs.r[free][order], pairs.v[free][order], pairs.cost[free][order]
    heads, starts = np.unique(fv, return_index=True)
    srv = np.flatnonzero(served)
    uns = np.flatnonzero(~served)
    srv_class = [srv[p.req_urgency[srv] == u] for u in range(4)]
    uns_urg = p.req_urgency[uns]
    dr = np.zeros(n, dtype=np.int64)
    dv = np.zeros(m, dtype=np.int64)
    dc: IntArray = np.zeros(4, dtype=np.int64)
    dt = 0
    for _ in range(n + m + 5):
        # Class node: reverse arc from each served request (d[C] <= d[r]).
        dc_new = np.array(
            [min(int(dc[u]), int(dr[s].min()) if s.size else 0) for u, s in enumerate(srv_class)], dtype=np.int64
        )
        dt_new = min(dt, int(dv[spare].min()) if spare.any() else 0)
        dv_new = dv.copy()
        if fr.size:
            seg = np.minimum.reduceat(dr[fr] + fc, starts)
            dv_new[heads] = np.minimum(dv_new[heads], seg)
        dv_new[loaded] = np.minimum(dv_new[loaded], dt_new)
        dr_new = dr.copy()
        dr_new[srv] = np.minimum(dr[srv], dv_new[sol.vol_of[srv]] - assigned_cost[srv])
        dr_new[uns] = np.minimum(dr[uns], dc_new[uns_urg])
        if dt_new == dt and np.array_equal(dc_new, dc) and np.array_equal(dv_new, dv) and np.array_equal(dr_new, dr):
            return dr, dv
        dr, dv, dc, dt = dr_new, dv_new, dc_new, dt_new
    raise SolverError("negative cycle in the residual graph: flow not optimal")
