"""The answer is feasible and optimal: brute force, an independent MILP, and the full-graph flow agree."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from matching import DBS_LEVELS, MatchResult, Request, SolveOptions, Volunteer, solve
from matching.candidates import all_feasible_pairs
from matching.flow import solve_flow
from matching.generate import clustered_instance
from matching.geometry import haversine_km
from matching.problem import build_problem

SKILLS = ("car", "shopping")


def feasible(r: Request, v: Volunteer) -> bool:
    """The rules written out again, independently of the engine."""
    return (
        r.skills <= v.skills
        and DBS_LEVELS.index(v.dbs) >= DBS_LEVELS.index(r.min_dbs)
        and v.id not in r.excluded
        and haversine_km(r.lat, r.lon, v.lat, v.lon) <= v.max_km
    )


def metres(r: Request, v: Volunteer) -> int:
    return round(haversine_km(r.lat, r.lon, v.lat, v.lon) * 1000)


def score(requests: list[Request], volunteers: list[Volunteer], pairs: dict[str, str]) -> tuple[int, ...]:
    """(u3, u2, u1 served, -metres, preferred kept): larger is better, compared lexicographically."""
    rs = {r.id: r for r in requests}
    vs = {v.id: v for v in volunteers}
    served = [sum(1 for x in pairs if rs[x].urgency == u) for u in (3, 2, 1)]
    dist = sum(metres(rs[x], vs[y]) for x, y in pairs.items())
    kept = sum(1 for x, y in pairs.items() if rs[x].preferred == y)
    return (*served, -dist, kept)


def check_constraints(requests: list[Request], volunteers: list[Volunteer], result: MatchResult) -> None:
    rs = {r.id: r for r in requests}
    vs = {v.id: v for v in volunteers}
    seen = [a.request for a in result.assignments]
    assert len(seen) == len(set(seen))
    for a in result.assignments:
        assert feasible(rs[a.request], vs[a.volunteer])
        assert a.explanation
    for v in volunteers:
        assert sum(1 for a in result.assignments if a.volunteer == v.id) <= v.capacity
    assert {u.request for u in result.unmatched} == set(rs) - set(seen)


def brute_force(requests: list[Request], volunteers: list[Volunteer]) -> tuple[int, ...]:
    options = [[None] + [v.id for v in volunteers if feasible(r, v)] for r in requests]
    caps = {v.id: v.capacity for v in volunteers}
    best: tuple[int, ...] | None = None
    for choice in itertools.product(*options):
        used = [c for c in choice if c is not None]
        if any(used.count(v) > caps[v] for v in set(used)):
            continue
        s = score(requests, volunteers, {r.id: c for r, c in zip(requests, choice, strict=True) if c is not None})
        best = s if best is None or s > best else best
    assert best is not None
    return best


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[list[Request], list[Volunteer]]:
    n = draw(st.integers(0, 5))
    m = draw(st.integers(0, 4))
    vids = [f"V{j}" for j in range(m)]
    coord = st.floats(-3.0, 3.0)  # km from a centre: distances straddle the 1-5 km limits
    requests = [
        Request(
            f"R{i}",
            51.5 + draw(coord) / 111.2,
            -0.2 + draw(coord) / 69.2,
            draw(st.integers(1, 3)),
            frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=1))),
            draw(st.sampled_from(DBS_LEVELS)),
            frozenset(draw(st.sets(st.sampled_from(vids), max_size=1))) if vids else frozenset(),
            draw(st.sampled_from([None, *vids])),
        )
        for i in range(n)
    ]
    volunteers = [
        Volunteer(
            vids[j],
            51.5 + draw(coord) / 111.2,
            -0.2 + draw(coord) / 69.2,
            frozenset(draw(st.sets(st.sampled_from(SKILLS)))),
            draw(st.sampled_from(DBS_LEVELS)),
            draw(st.sampled_from([1.0, 2.5, 5.0])),
            draw(st.integers(0, 2)),
        )
        for j in range(m)
    ]
    return requests, volunteers


@settings(max_examples=150, deadline=None)
@given(small_instances(), st.sampled_from(["full", "pricing"]))
def test_answer_never_breaks_a_constraint_and_equals_brute_force(
    instance: tuple[list[Request], list[Volunteer]], method: str
) -> None:
    requests, volunteers = instance
    result = solve(requests, volunteers, SolveOptions(method=method, candidates_per_request=1))  # type: ignore[arg-type]
    check_constraints(requests, volunteers, result)
    assert result.optimal
    got = score(requests, volunteers, {a.request: a.volunteer for a in result.assignments})
    assert got == brute_force(requests, volunteers)


def milp_objective(requests: list[Request], volunteers: list[Volunteer]) -> tuple[int, ...]:
    """Lexicographic optimum by four successive MILPs (HiGHS), each fixing the level before it."""
    pairs = [(i, j) for i, r in enumerate(requests) for j, v in enumerate(volunteers) if feasible(r, v)]
    k = len(pairs)
    rows_r = [i for i, _ in pairs]
    rows_v = [j for _, j in pairs]
    a_req = coo_matrix((np.ones(k), (rows_r, range(k))), shape=(len(requests), k))
    a_vol = coo_matrix((np.ones(k), (rows_v, range(k))), shape=(len(volunteers), k))
    cons = [LinearConstraint(a_req, 0, 1), LinearConstraint(a_vol, 0, [v.capacity for v in volunteers])]
    levels = []
    for u in (3, 2, 1):
        c = -np.array([1.0 if requests[i].urgency == u else 0.0 for i, _ in pairs])
        res = milp(c, constraints=cons, integrality=np.ones(k), bounds=Bounds(0, 1))
        best = round(-res.fun)
        levels.append(best)
        cons.append(LinearConstraint(-c.reshape(1, k), best, best))
    dist = np.array([metres(requests[i], volunteers[j]) for i, j in pairs], dtype=float)
    res = milp(dist, constraints=cons, integrality=np.ones(k), bounds=Bounds(0, 1))
    return (*levels, -round(res.fun))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("method", ["full", "pricing"])
def test_objective_equals_independent_milp(seed: int, method: str) -> None:
    requests, volunteers = clustered_instance(120, 40 + 10 * seed, seed)
    result = solve(requests, volunteers, SolveOptions(method=method, candidates_per_request=2))  # type: ignore[arg-type]
    check_constraints(requests, volunteers, result)
    got = score(requests, volunteers, {a.request: a.volunteer for a in result.assignments})
    assert got[:4] == milp_objective(requests, volunteers)


def full_graph_objective(requests: list[Request], volunteers: list[Volunteer]) -> tuple[int, ...]:
    p = build_problem(requests, volunteers)
    sol = solve_flow(p, all_feasible_pairs(p))
    vol_of = sol.vol_of
    pairs = {p.requests[i].id: p.volunteers[int(vol_of[i])].id for i in np.flatnonzero(vol_of >= 0)}
    return score(requests, volunteers, pairs)


@pytest.mark.parametrize(("n", "m", "seed"), [(1000, 500, 7), (10_000, 2_000, 8)])
def test_pricing_equals_full_graph_flow(n: int, m: int, seed: int) -> None:
    requests, volunteers = clustered_instance(n, m, seed)
    result = solve(requests, volunteers, SolveOptions(method="pricing"))
    assert result.optimal
    got = score(requests, volunteers, {a.request: a.volunteer for a in result.assignments})
    assert got == full_graph_objective(requests, volunteers)


def test_same_input_same_output_whatever_the_order() -> None:
    requests, volunteers = clustered_instance(400, 150, 5)
    first = solve(requests, volunteers)
    rnd = random.Random(3)
    for method in ("full", "pricing"):
        r2, v2 = requests[:], volunteers[:]
        rnd.shuffle(r2)
        rnd.shuffle(v2)
        again = solve(r2, v2, SolveOptions(method=method))  # type: ignore[arg-type]
        assert score(requests, volunteers, {a.request: a.volunteer for a in again.assignments}) == score(
            requests, volunteers, {a.request: a.volunteer for a in first.assignments}
        )
    repeat = solve(requests, volunteers)
    assert repeat.assignments == first.assignments and repeat.unmatched == first.unmatched


def test_lookahead_changes_the_rounds_not_the_answer() -> None:
    requests, volunteers = clustered_instance(1500, 400, 11)
    plain = solve(requests, volunteers, SolveOptions(method="pricing", lookahead_m=0))
    ahead = solve(requests, volunteers, SolveOptions(method="pricing", lookahead_m=500))
    assert plain.optimal and ahead.optimal
    assert (
        score(requests, volunteers, {a.request: a.volunteer for a in plain.assignments})
        == score(requests, volunteers, {a.request: a.volunteer for a in ahead.assignments})
        == full_graph_objective(requests, volunteers)
    )
