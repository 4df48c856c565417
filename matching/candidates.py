"""Which (request, volunteer) pairs the flow sees: all feasible pairs, nearest ones, or priced ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from matching.geometry import FloatArray, chord_for_km, haversine_km_arrays, km_for_chord
from matching.problem import IntArray, Problem

#: Threads the searches use: pricing's blocks, and scipy's own workers for the k-nearest queries. 10,000 x 5,000
#: on this 2-core machine, interleaved runs: pricing 4.0-4.2 s with two against 4.7-5.0 s with one.
THREADS = min(2, os.cpu_count() or 1)


@dataclass
class Pairs:
    """Feasible pairs as parallel arrays: request index, volunteer index, km and integer cost."""

    r: IntArray
    v: IntArray
    km: FloatArray
    cost: IntArray

    @staticmethod
    def empty() -> Pairs:
        z = np.zeros(0, dtype=np.int64)
        return Pairs(z, z.copy(), np.zeros(0), z.copy())

    @staticmethod
    def concat(parts: list[Pairs]) -> Pairs:
        if not parts:
            return Pairs.empty()
        return Pairs(
            np.concatenate([p.r for p in parts]),
            np.concatenate([p.v for p in parts]),
            np.concatenate([p.km for p in parts]),
            np.concatenate([p.cost for p in parts]),
        )

    def __len__(self) -> int:
        return int(self.r.size)

    def take(self, mask: np.ndarray) -> Pairs:  # type: ignore[type-arg]
        return Pairs(self.r[mask], self.v[mask], self.km[mask], self.cost[mask])


def _keys(a: Pairs, b: Pairs) -> tuple[IntArray, IntArray]:
    """Each pair's (request, volunteer) as one int64, on a scale common to both sets (sorted pairs, sorted keys)."""
    width = int(max(a.v.max(initial=0), b.v.max(initial=0))) + 1
    return a.r * width + a.v, b.r * width + b.v


def merge(a: Pairs, b: Pairs) -> Pairs:
    """Union of two pair sets, sorted by (request, volunteer), without duplicates (``a``'s copy kept).

    ``a`` is already sorted without duplicates (every pair set the solver keeps is); ``b`` may come in any order,
    with repeats. Only ``b`` is sorted, then slotted in: sorting the whole union again each round took 10 s of a
    60 s run at 100,000 x 50,000, where the candidates grow to millions of pairs.
    """
    if len(b) == 0:
        return a
    ka, kb = _keys(a, b)
    kb, first = np.unique(kb, return_index=True)
    b = b.take(first)
    if len(a) == 0:
        return b
    pos = np.asarray(np.searchsorted(ka, kb), dtype=np.int64)
    new = ka[np.minimum(pos, ka.size - 1)] != kb
    b, pos = b.take(new), pos[new]
    # The j-th new pair has pos[j] of a's pairs and j of its own before it.
    at = pos + np.arange(pos.size)
    from_a = np.ones(len(a) + len(b), dtype=np.bool_)
    from_a[at] = False

    def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        out = np.empty(from_a.size, dtype=x.dtype)
        out[at] = y
        out[from_a] = x
        return out

    return Pairs(field(a.r, b.r), field(a.v, b.v), field(a.km, b.km), field(a.cost, b.cost))


def contains(pairs: Pairs, query: Pairs) -> np.ndarray:  # type: ignore[type-arg]
    """Which ``query`` pairs are already among ``pairs`` (both sorted by request, then volunteer)."""
    if len(pairs) == 0 or len(query) == 0:
        return np.zeros(len(query), dtype=np.bool_)
    key, qkey = _keys(pairs, query)
    pos = np.minimum(np.searchsorted(key, qkey), key.size - 1)
    out: np.ndarray = key[pos] == qkey  # type: ignore[type-arg]
    return out


def positions(pairs: Pairs, subset: Pairs) -> IntArray:
    """Where each pair of ``subset`` stands in ``pairs`` (sorted; ``subset`` holds only pairs of ``pairs``).

    The search goes from the few to the many: asking which of millions of candidates are among a round's few
    thousand used pairs cost 0.16-0.62 s a call among 8 million candidates, this about 0.03 s.
    """
    key, sub_key = _keys(pairs, subset)
    out: IntArray = np.searchsorted(key, sub_key).astype(np.int64)
    return out


def feasible_only(p: Problem, r: IntArray, v: IntArray) -> Pairs:
    """Keep the pairs within the volunteer's range (inclusive) and not excluded; skills are the caller's job."""
    km = haversine_km_arrays(p.req_lat[r], p.req_lon[r], p.vol_lat[v], p.vol_lon[v])
    ok = km <= p.vol_max_km[v]
    ok &= ~p.is_excluded(r, v)
    r, v, km = r[ok], v[ok], km[ok]
    return Pairs(r, v, km, p.pair_cost(r, v, km))


def _compatible_blocks(p: Problem) -> Iterator[tuple[IntArray, int]]:
    """(requests of one signature, index of its group), skipping groups nobody can serve."""
    for g, grp in enumerate(p.groups):
        if grp.members.size:
            yield grp.requests, g


def all_feasible_pairs(p: Problem) -> Pairs:
    """Every feasible pair; memory grows with the pair count, so only for small or medium instances.

    One dual-tree query per signature returns flat index arrays; the volunteer's own range is
    checked on the chord before the exact haversine test, so only near-feasible pairs are measured.
    """
    parts = []
    vol_chord = chord_for_km(p.vol_max_km)
    for reqs, g in _compatible_blocks(p):
        grp = p.groups[g]
        hits = cKDTree(p.req_xyz[reqs]).sparse_distance_matrix(
            grp.tree, float(chord_for_km(grp.max_km)), output_type="ndarray"
        )
        if hits.size == 0:
            continue
        v = grp.members[hits["j"]]
        near = hits["v"] <= vol_chord[v]
        parts.append(feasible_only(p, reqs[hits["i"][near]], v[near]))
    return _sorted(Pairs.concat(parts))


def nearest_pairs(p: Problem, k: int) -> Pairs:
    """Up to ``k`` nearest feasible volunteers per request.

    The KD-tree returns at most ``k`` neighbours per request already ordered by distance, so no
    cut is needed afterwards: only the final (request, volunteer) sort.
    """
    parts = []
    for reqs, g in _compatible_blocks(p):
        grp = p.groups[g]
        kk = min(k, grp.members.size)
        _, idx = grp.tree.query(
            p.req_xyz[reqs], k=kk, distance_upper_bound=float(chord_for_km(grp.max_km)), workers=THREADS
        )
        idx = np.asarray(idx).reshape(reqs.size, kk)
        found = idx < grp.members.size
        r = np.broadcast_to(reqs[:, None], idx.shape)[found]
        parts.append(feasible_only(p, r, grp.members[idx[found]]))
    return _sorted(Pairs.concat(parts))


def _sorted(pairs: Pairs) -> Pairs:
    """Order pairs by (request, volunteer): the flow then sees the same arcs in the same order every run."""
    if len(pairs) == 0:
        return pairs
    # One int64 key sorts faster than a two-key lexsort (the keys fit: n * m < 2**63).
    width = int(pairs.v.max()) + 1
    return pairs.take(np.argsort(pairs.r * width + pairs.v, kind="stable"))


def price(p: Problem, dr: IntArray, dv: IntArray, per_request: int = 16, chunk: int = 4096) -> Pairs:
    """Every feasible pair whose reduced cost ``dr[r] + c - dv[v]`` is negative (none means optimal).

    ``dr`` and ``dv`` are shortest-path labels of the residual graph, so candidate arcs never
    violate. A pair can violate only if ``c < max(dv over its group) - dr[r]``, which bounds the
    distance to search around each request; volunteers are bucketed by label so that cheap
    (spare-capacity) volunteers do not force wide searches around requests that only they could
    improve. Requests are banded by search radius and each band is matched against a bucket by
    one dual-tree query, which returns flat arrays (no Python lists). Only the ``per_request``
    most negative pairs of each request are returned: adding every violator makes the restricted
    graph almost the full graph when volunteers are scarce.
    """
    blocks: list[tuple[IntArray, FloatArray, IntArray, cKDTree]] = []
    buckets = _label_buckets(p, dv)
    vol_chord = chord_for_km(p.vol_max_km)
    for reqs, g in _compatible_blocks(p):
        for members, tree, max_dv, max_km in buckets[g]:
            bound = max_dv - dr[reqs]
            live = bound >= 0
            if not live.any():
                continue
            rq = reqs[live]
            # c = T*q - bonus < bound  =>  q <= bound / T ; km <= (q + 0.5) * unit
            km_r = np.minimum((bound[live] / p.tie_scale + 0.5) * p.unit_m / 1000.0 + 1e-9, max_km)
            chord = chord_for_km(km_r)
            band = np.ceil(2 * np.log2(np.maximum(km_r, 0.05) / 0.05)).astype(np.int64)
            for b in np.unique(band).tolist():
                for sel in np.array_split(np.flatnonzero(band == b), -(-int((band == b).sum()) // chunk)):
                    blocks.append((rq[sel], chord[sel], members, tree))

    def block(args: tuple[IntArray, FloatArray, IntArray, cKDTree]) -> Pairs | None:
        return _price_block(p, dr, dv, *args, vol_chord, per_request)

    # The blocks are independent and the tree searches and array work release the GIL for much of their time.
    # Their order does not matter: the pairs are cut and sorted by (request, reduced cost, volunteer) below.
    with ThreadPoolExecutor(THREADS) as pool:
        found = Pairs.concat([part for part in pool.map(block, blocks) if part is not None])
    if len(found) == 0:
        return found
    return _sorted(_most_negative(found, dr, dv, per_request))


def _price_block(
    p: Problem,
    dr: IntArray,
    dv: IntArray,
    rq: IntArray,
    chord: FloatArray,
    members: IntArray,
    tree: cKDTree,
    vol_chord: FloatArray,
    per_request: int,
) -> Pairs | None:
    """Violating pairs between requests ``rq`` (search radii ``chord``) and one volunteer bucket, the
    ``per_request`` most negative of each request (None when there are none)."""
    hits = cKDTree(p.req_xyz[rq]).sparse_distance_matrix(tree, float(chord.max()), output_type="ndarray")
    if hits.size == 0:
        return None
    i, j, d = hits["i"], hits["j"], hits["v"]
    v = members[j]
    near = (d <= chord[i]) & (d <= vol_chord[v])
    # Most pairs in range cannot violate even at their lowest possible cost, at the great-circle distance of the
    # chord the tree measured (less a millimetre for rounding). Only the rest are measured exactly and checked
    # for exclusions (about half as many at 10,000 requests).
    r, v = rq[i[near]], v[near]
    maybe = dr[r] + p.lowest_cost(km_for_chord(d[near]) - 1e-6) < dv[v]
    if not maybe.any():
        return None
    cand = feasible_only(p, r[maybe], v[maybe])
    bad = dr[cand.r] + cand.cost < dv[cand.v]
    return _most_negative(cand.take(bad), dr, dv, per_request) if bad.any() else None


def _most_negative(found: Pairs, dr: IntArray, dv: IntArray, per_request: int) -> Pairs:
    """The ``per_request`` pairs of lowest reduced cost of each request (ties by volunteer index)."""
    reduced = dr[found.r] + found.cost - dv[found.v]
    found = found.take(_lex_order(found.r, reduced, found.v))
    rank = np.arange(len(found)) - np.searchsorted(found.r, found.r, side="left")
    return found.take(rank < per_request)


def _lex_order(a: IntArray, b: IntArray, c: IntArray) -> IntArray:
    """Indices ordering by ``a``, then ``b``, then ``c`` (each triple distinct): one int64 key when the three
    ranges fit in it, which sorts several times faster than a three-key lexsort; the lexsort otherwise."""
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    spans = [int(x.max()) - int(x.min()) + 1 for x in (a, b, c)]
    if spans[0] * spans[1] * spans[2] >= 2**62:
        out: IntArray = np.lexsort((c, b, a))
        return out
    key = ((a - a.min()) * spans[1] + (b - b.min())) * spans[2] + (c - c.min())
    ordered: IntArray = np.argsort(key)
    return ordered


_Bucket = tuple[IntArray, cKDTree, int, float]


def _label_buckets(p: Problem, dv: IntArray, per_group: int = 4) -> list[list[_Bucket]]:
    """Split each group by volunteer label: a bucket's bound uses its own highest label."""
    out: list[list[_Bucket]] = []
    for grp in p.groups:
        labels = dv[grp.members]
        order = np.argsort(labels, kind="stable")
        pieces = np.array_split(order, min(per_group, max(1, grp.members.size // 256)))
        bl: list[_Bucket] = []
        for piece in pieces:
            if piece.size == 0:
                continue
            mem = grp.members[piece]
            bl.append((mem, cKDTree(p.vol_xyz[mem]), int(dv[mem].max()), float(p.vol_max_km[mem].max())))
        out.append(bl)
    return out
