"""The baseline the engine must beat: most urgent first, nearest feasible volunteer with capacity left."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from matching.geometry import chord_for_km, haversine_km_arrays
from matching.problem import IntArray, Problem

_FIRST_K = 24


def greedy(p: Problem) -> IntArray:
    """Volunteer index per request (-1 unserved); ties by request id, then volunteer id.

    Each request's nearest feasible volunteers are fetched for everybody in one batch of KD-tree
    queries; the sequential pass then only walks short lists, widening the search for a request
    only when all of its listed volunteers are already full.
    """
    left = p.vol_cap.copy()
    vol_of = np.full(p.n, -1, dtype=np.int64)
    lists, truncated = _nearest_lists(p, _FIRST_K)
    order = np.lexsort((np.arange(p.n), -p.req_urgency))
    avail = _Available(p)
    for r in order.tolist():
        chosen = -1
        for v in lists[r]:
            if left[v] > 0:
                chosen = v
                break
        if chosen < 0 and truncated[r]:
            chosen = avail.nearest(r, int(p.req_sig[r]), left, 2 * _FIRST_K)
        if chosen >= 0:
            vol_of[r] = chosen
            left[chosen] -= 1
    return vol_of


def _nearest_lists(p: Problem, k: int) -> tuple[list[list[int]], np.ndarray]:  # type: ignore[type-arg]
    """Per request, up to ``k`` nearest feasible volunteers by (km, id); and whether the list may be cut short."""
    lists: list[list[int]] = [[] for _ in range(p.n)]
    truncated = np.zeros(p.n, dtype=np.bool_)
    for grp in p.groups:
        if grp.members.size == 0 or grp.requests.size == 0:
            continue
        kk = min(k, grp.members.size)
        _, idx = grp.tree.query(p.req_xyz[grp.requests], k=kk, distance_upper_bound=float(chord_for_km(grp.max_km)))
        idx = np.asarray(idx).reshape(grp.requests.size, kk)
        found = idx < grp.members.size
        truncated[grp.requests] = found.all(axis=1) & (kk < grp.members.size)
        r = np.repeat(grp.requests, kk).reshape(grp.requests.size, kk)[found]
        v = grp.members[idx[found]]
        km = haversine_km_arrays(p.req_lat[r], p.req_lon[r], p.vol_lat[v], p.vol_lon[v])
        ok = (km <= p.vol_max_km[v]) & ~p.is_excluded(r, v)
        r, v, km = r[ok], v[ok], km[ok]
        o = np.lexsort((v, km, r))
        r, v = r[o], v[o]
        cuts = np.flatnonzero(np.diff(r)) + 1
        for rr, vv in zip(
            r[np.r_[0, cuts]].tolist() if r.size else [], np.split(v, cuts) if r.size else [], strict=True
        ):
            lists[rr] = vv.tolist()
    return lists, truncated


class _Available:
    """Per group, a KD-tree over the volunteers that had capacity left when it was built.

    It is a superset of the volunteers with capacity left now, so walking its nearest points
    in order and skipping the full ones finds the nearest volunteer with capacity left; it is
    rebuilt only when its nearest points turn out to be full.
    """

    def __init__(self, p: Problem) -> None:
        self.p = p
        self.snap: dict[int, tuple[IntArray, cKDTree]] = {}

    def nearest(self, r: int, g: int, left: IntArray, k: int) -> int:
        p = self.p
        grp = p.groups[g]
        bound = float(chord_for_km(grp.max_km))
        fresh = False
        while True:
            if g not in self.snap or fresh:
                mem = grp.members[left[grp.members] > 0]
                self.snap[g] = (mem, cKDTree(p.vol_xyz[mem] if mem.size else np.zeros((0, 3))))
                fresh = False
            mem, tree = self.snap[g]
            if mem.size == 0:
                return -1
            kk = min(k, mem.size)
            _, idx = tree.query(p.req_xyz[r], k=kk, distance_upper_bound=bound)
            idx = np.atleast_1d(idx)
            idx = idx[idx < mem.size]
            v = mem[idx]
            km = haversine_km_arrays(
                np.full(v.size, p.req_lat[r]), np.full(v.size, p.req_lon[r]), p.vol_lat[v], p.vol_lon[v]
            )
            ok = (km <= p.vol_max_km[v]) & (left[v] > 0) & ~p.is_excluded(np.full(v.size, r, dtype=np.int64), v)
            if ok.any():
                j = np.flatnonzero(ok)
                return int(v[j[np.lexsort((v[j], km[j]))[0]]])
            if idx.size < kk or kk == mem.size:
                return -1
            if (left[v] > 0).sum() < v.size // 2:
                fresh = True
            else:
                k *= 4
