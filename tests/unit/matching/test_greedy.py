"""The greedy baseline follows its written rule exactly, however its nearest lists are cut short."""

from __future__ import annotations

import pytest

from matching.generate import clustered_instance
from matching.geometry import haversine_km
from matching.greedy import greedy
from matching.model import DBS_LEVELS, Request, Volunteer
from matching.problem import build_problem


def reference_greedy(requests: list[Request], volunteers: list[Volunteer]) -> dict[str, str]:
    """Most urgent first (ties by id), nearest feasible volunteer with capacity left (ties by id)."""
    left = {v.id: v.capacity for v in volunteers}
    out = {}
    for r in sorted(requests, key=lambda x: (-x.urgency, x.id)):
        best: tuple[float, str] | None = None
        for v in volunteers:
            km = haversine_km(r.lat, r.lon, v.lat, v.lon)
            if (
                left[v.id] > 0
                and r.skills <= v.skills
                and DBS_LEVELS.index(v.dbs) >= DBS_LEVELS.index(r.min_dbs)
                and v.id not in r.excluded
                and km <= v.max_km
                and (best is None or (km, v.id) < best)
            ):
                best = (km, v.id)
        if best is not None:
            out[r.id] = best[1]
            left[best[1]] -= 1
    return out


@pytest.mark.parametrize(("n", "m", "seed"), [(300, 150, 1), (600, 60, 2), (400, 400, 3)])
def test_greedy_equals_the_rule_written_out(n: int, m: int, seed: int) -> None:
    requests, volunteers = clustered_instance(n, m, seed)
    p = build_problem(requests, volunteers)
    vol_of = greedy(p)
    got = {p.requests[i].id: p.volunteers[int(v)].id for i, v in enumerate(vol_of.tolist()) if v >= 0}
    assert got == reference_greedy(requests, volunteers)
