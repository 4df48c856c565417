"""The two-phase exact method: counts proven on the whole graph, then fewest km with those counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_cases import req, vol
from ortools.graph.python import max_flow

from matching import SolveOptions, solve
from matching.candidates import Pairs, all_feasible_pairs, merge, nearest_pairs
from matching.flow import solve_flow
from matching.generate import clustered_instance
from matching.lexflow import counts_round, solve_fixed_counts
from matching.problem import build_problem


def served_counts(p_urgency: np.ndarray, vol_of: np.ndarray) -> dict[int, int]:  # type: ignore[type-arg]
    return {u: int(((vol_of >= 0) & (p_urgency == u)).sum()) for u in (3, 2, 1)}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_counts_on_every_pair_are_those_of_the_lexicographic_flow_and_need_no_pair(seed: int) -> None:
    p = build_problem(*clustered_instance(80, 30, seed))
    pairs = all_feasible_pairs(p)
    cr = counts_round(p, pairs)
    assert len(cr.violators) == 0
    assert cr.counts == served_counts(p.req_urgency, solve_flow(p, pairs).vol_of)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_fixed_counts_flow_has_the_km_of_the_penalty_flow(seed: int) -> None:
    p = build_problem(*clustered_instance(80, 30, seed))
    pairs = all_feasible_pairs(p)
    ref = solve_flow(p, pairs)
    counts = served_counts(p.req_urgency, ref.vol_of)
    fixed = solve_fixed_counts(p, pairs, counts)
    assert served_counts(p.req_urgency, fixed.vol_of) == counts
    # Same pair costs (metres x T - preference bonus): the penalties are the only difference.
    penalties = int(p.penalty(np.flatnonzero(ref.vol_of < 0)).sum())
    assert fixed.cost == ref.cost - penalties


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_the_pairs_the_prefix_flows_used_hold_every_count_at_once(seed: int, k: int) -> None:
    # The time-limited fallback solves the fixed counts on these pairs alone (with the nearest): always feasible.
    p = build_problem(*clustered_instance(120, 40, seed))
    cr = counts_round(p, nearest_pairs(p, k))
    fixed = solve_fixed_counts(p, cr.used, cr.counts)
    assert served_counts(p.req_urgency, fixed.vol_of) == cr.counts
    assert len(cr.used) <= 3 * p.n


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1, 4, 16]))
def test_counts_proven_from_the_nearest_pairs_are_those_of_every_pair(seed: int, per_volunteer: int) -> None:
    """However many pairs a round adds per volunteer outside the cover (16 at region scale), the loop ends on the
    counts of the whole feasibility graph, with the prefixes proven in a round carried to the next as the solver
    does; every round's used pairs hold all its counts at once (the time-limited fallback relies on it)."""
    p = build_problem(*clustered_instance(150, 40, seed))
    pairs = nearest_pairs(p, 1)
    cr = None
    for _ in range(100):
        cr = counts_round(p, pairs, per_volunteer, cr.proven if cr else None)
        fixed = solve_fixed_counts(p, cr.used, cr.counts)
        assert served_counts(p.req_urgency, fixed.vol_of) == cr.counts
        if len(cr.violators) == 0:
            break
        pairs = merge(pairs, cr.violators)
    assert cr is not None and len(cr.violators) == 0
    assert cr.counts == counts_round(p, all_feasible_pairs(p)).counts


class CountingMaxFlow(max_flow.SimpleMaxFlow):  # type: ignore[misc]
    solves = 0

    def solve(self, source: int, sink: int) -> Any:
        CountingMaxFlow.solves += 1
        return super().solve(source, sink)


def test_a_proven_prefix_is_not_solved_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Urgency 3 alone is proven at once here (everyone urgent is served) while the rest is not: the next round
    takes its count as it is and solves two flows, not three, with the same counts as a round solving all."""
    monkeypatch.setattr(max_flow, "SimpleMaxFlow", CountingMaxFlow)
    requests = [req("R0", 0.0, urgency=3), req("R1", 0.1, urgency=1)]
    volunteers = [vol("V1", 0.05, max_km=1.0), vol("V2", 8.0, max_km=10.0)]
    p = build_problem(requests, volunteers)
    first = counts_round(p, nearest_pairs(p, 1))
    assert set(first.proven) == {3, 2} and len(first.violators) > 0
    pairs = merge(nearest_pairs(p, 1), first.violators)
    CountingMaxFlow.solves = 0
    again = counts_round(p, pairs, proven=first.proven)
    assert CountingMaxFlow.solves == 1
    assert again.counts == counts_round(p, pairs).counts == {3: 1, 2: 0, 1: 1}
    assert len(again.violators) == 0


def test_a_farther_volunteer_of_longer_range_breaks_the_count_proof() -> None:
    # R1's only candidate (V1, nearest) is taken by the urgent R0; V2 is far but travels far.
    requests = [req("R0", 0.0, urgency=3), req("R1", 0.1, urgency=1)]
    volunteers = [vol("V1", 0.05, max_km=1.0), vol("V2", 8.0, max_km=10.0)]
    p = build_problem(requests, volunteers)
    only_near = nearest_pairs(p, 1)
    assert set(only_near.v.tolist()) == {0}
    cr = counts_round(p, only_near)
    assert cr.counts == {3: 1, 2: 0, 1: 0}
    assert (1, 1) in set(zip(cr.violators.r.tolist(), cr.violators.v.tolist(), strict=True))
    result = solve(requests, volunteers, SolveOptions(method="pricing", candidates_per_request=1))
    assert result.optimal and result.served_by_urgency == {3: 1, 2: 0, 1: 1}


def test_no_pairs_at_all_is_proven_at_once() -> None:
    p = build_problem([req("R1", 0.0)], [vol("V1", 50.0, max_km=1.0)])
    cr = counts_round(p, Pairs.empty())
    assert cr.counts == {3: 0, 2: 0, 1: 0} and len(cr.violators) == 0
