"""The baseline the engine must beat: most urgent first, nearest feasible volunteer with capacity left."""

from __future__ import annotations

import numpy as np

from matching.geometry import chord_for_km, haversine_km_arrays
from matching.problem import IntArray, Problem


def greedy(p: Problem) -> IntArray:
    """Volunteer index per request (-1 unserved); ties by request id, then volunteer id."""
    left = p.vol_cap.copy()
    vol_of = np.full(p.n, -1, dtype=np.int64)
    order = np.lexsort((np.arange(p.n), -p.req_urgency))
    for r in order.tolist():
        best = _nearest_with_capacity(p, r, int(p.req_sig[r]), left)
        if best is not None:
            vol_of[r] = best[1]
            left[best[1]] -= 1
    return vol_of


def _nearest_with_capacity(p: Problem, r: int, g: int, left: IntArray) -> tuple[float, int] | None:
    """Nearest feasible volunteer of group g with capacity left, widening k until the range is exhausted."""
    grp = p.groups[g]
    if grp.members.size == 0:
        return None
    k = 16
    bound = float(chord_for_km(grp.max_km))
    while True:
        kk = min(k, grp.members.size)
        _, idx = grp.tree.query(p.req_xyz[r], k=kk, distance_upper_bound=bound)
        idx = np.atleast_1d(idx)
        idx = idx[idx < grp.members.size]
        v = grp.members[idx]
        km = haversine_km_arrays(np.full(v.size, p.req_lat[r]), np.full(v.size, p.req_lon[r]),
                                 p.vol_lat[v], p.vol_lon[v])
        ok = (km <= p.vol_max_km[v]) & (left[v] > 0) & ~p.is_excluded(np.full(v.size, r, dtype=np.int64), v)
        if ok.any():
            j = np.flatnonzero(ok)
            best = j[np.lexsort((v[j], km[j]))[0]]
            return float(km[best]), int(v[best])
        if idx.size < kk or kk == grp.members.size:
            return None
        k *= 4
