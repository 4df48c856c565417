"""Pricing finds exactly the violating pairs an exhaustive search over every feasible pair finds."""

from __future__ import annotations

import numpy as np
import pytest

from matching import candidates
from matching.candidates import Pairs, _lex_order, all_feasible_pairs, contains, merge, positions, price
from matching.generate import clustered_instance
from matching.problem import IntArray, build_problem


def exhaustive(
    pairs_r: IntArray, pairs_v: IntArray, cost: IntArray, dr: IntArray, dv: IntArray, k: int
) -> set[tuple[int, int]]:
    """The ``k`` most negative reduced costs of each request (ties by volunteer), as a set of (r, v)."""
    reduced = dr[pairs_r] + cost - dv[pairs_v]
    bad = reduced < 0
    rows = sorted(zip(pairs_r[bad].tolist(), reduced[bad].tolist(), pairs_v[bad].tolist(), strict=True))
    out: set[tuple[int, int]] = set()
    count, last = 0, None
    for r, _, v in rows:
        count = count + 1 if r == last else 1
        last = r
        if count <= k:
            out.add((r, v))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_price_returns_the_most_negative_pairs_of_every_request(seed: int) -> None:
    """Labels drawn at random over the range of real ones (tens of km, in cost units), with preferred pairs and
    exclusions in the instance: the chord bound that skips pairs before they are measured never skips a violator."""
    requests, volunteers = clustered_instance(600, 250, seed)
    p = build_problem(requests, volunteers)
    full = all_feasible_pairs(p)
    assert (p.req_pref >= 0).any() and p.excluded_keys.size > 0
    rng = np.random.default_rng(seed)
    spread = 6_000 * p.tie_scale // p.unit_m
    dr = -rng.integers(0, spread, size=p.n).astype(np.int64)
    dv = -rng.integers(0, spread, size=p.m).astype(np.int64)
    found = price(p, dr, dv, per_request=5)
    want = exhaustive(full.r, full.v, full.cost, dr, dv, 5)
    assert len(want) > 100
    assert set(zip(found.r.tolist(), found.v.tolist(), strict=True)) == want
    # Each returned pair carries the exact cost of the full graph's pair.
    cost = dict(zip(zip(full.r.tolist(), full.v.tolist(), strict=True), full.cost.tolist(), strict=True))
    got = zip(found.r.tolist(), found.v.tolist(), found.cost.tolist(), strict=True)
    assert all(cost[(r, v)] == c for r, v, c in got)


def test_price_is_the_same_in_one_thread_or_several(monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocks are searched in threads and come back in any order: the pairs, in order, do not depend on it."""
    requests, volunteers = clustered_instance(1_500, 600, 4)
    p = build_problem(requests, volunteers)
    rng = np.random.default_rng(4)
    spread = 6_000 * p.tie_scale // p.unit_m
    dr = -rng.integers(0, spread, size=p.n).astype(np.int64)
    dv = -rng.integers(0, spread, size=p.m).astype(np.int64)
    answers = []
    for threads in (1, 2, 4):
        monkeypatch.setattr(candidates, "THREADS", threads)
        answers.append(price(p, dr, dv, per_request=5, chunk=64))
    assert len(answers[0]) > 100
    for other in answers[1:]:
        for field in ("r", "v", "km", "cost"):
            assert np.array_equal(getattr(answers[0], field), getattr(other, field))


@pytest.mark.parametrize("span", [1_000, 2**40])
def test_lex_order_equals_numpy_lexsort(span: int) -> None:
    """One int64 key when the ranges fit, numpy's lexsort when they do not: the same order either way."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 50, size=5_000)
    b = rng.integers(-span, span, size=5_000)
    c = np.arange(5_000)
    rng.shuffle(c)
    assert np.array_equal(_lex_order(a, b, c), np.lexsort((c, b, a)))


def test_lex_order_of_nothing_is_empty() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert _lex_order(empty, empty, empty).size == 0


@pytest.mark.parametrize("seed", range(5))
def test_merge_is_the_sorted_union_without_repeats(seed: int) -> None:
    """The solver's pair sets grow by merging: the result is the union sorted by (request, volunteer) with each
    pair once (the first set's copy), whatever order and repeats the second set comes in."""
    rng = np.random.default_rng(seed)

    def pairs(size: int) -> Pairs:
        r, v = rng.integers(0, 40, size=size), rng.integers(0, 30, size=size)
        return Pairs(r, v, rng.random(size), rng.integers(0, 1_000, size=size))

    a = pairs(300)
    keep = np.unique(a.r * 30 + a.v, return_index=True)[1]
    a = a.take(keep)  # sorted, no repeats, as the solver keeps them
    b = pairs([0, 1, 50, 400, 2_000][seed])
    got = merge(a, b)
    key = got.r * 30 + got.v
    assert np.all(np.diff(key) > 0)
    assert set(key.tolist()) == set((a.r * 30 + a.v).tolist()) | set((b.r * 30 + b.v).tolist())
    mine = dict(zip((a.r * 30 + a.v).tolist(), zip(a.km.tolist(), a.cost.tolist(), strict=True), strict=True))
    for k, km, cost in zip(key.tolist(), got.km.tolist(), got.cost.tolist(), strict=True):
        if k in mine:
            assert (km, cost) == mine[k]
    assert merge(Pairs.empty(), b).r.size == len(set((b.r * 30 + b.v).tolist()))


def test_positions_finds_each_pair_of_a_subset() -> None:
    """A carried prefix's used pairs are found among the round's candidates, from the few to the many."""
    rng = np.random.default_rng(7)
    key = np.unique(rng.integers(0, 40, 600) * 30 + rng.integers(0, 30, 600))
    pairs = Pairs(key // 30, key % 30, rng.random(key.size), rng.integers(0, 1_000, key.size))
    pick = np.sort(rng.choice(key.size, 50, replace=False))
    assert np.array_equal(positions(pairs, pairs.take(pick)), pick)
    assert np.array_equal(np.flatnonzero(contains(pairs.take(pick), pairs)), pick)
    assert positions(pairs, Pairs.empty()).size == 0
