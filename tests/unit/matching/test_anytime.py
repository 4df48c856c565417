"""A time limit returns the best answer found with a proven bound; the printed totals add up exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_cases import req, vol

from matching import SolveOptions, solve
from matching.cli import main
from matching.generate import clustered_instance, instance_to_json
from matching.jsonio import result_to_json


def test_a_tiny_time_limit_returns_a_feasible_answer_with_a_valid_bound() -> None:
    requests, volunteers = clustered_instance(3000, 1200, 4)
    result = solve(requests, volunteers, SolveOptions(method="pricing", time_limit_s=1e-6))
    assert not result.optimal and result.bound is not None
    for u in (3, 2, 1):
        assert result.bound.served_by_urgency[u] >= result.served_by_urgency[u]
    assert result.bound.km_lower_bound <= result.total_km
    caps = {v.id: v.capacity for v in volunteers}
    for a in result.assignments:
        caps[a.volunteer] -= 1
    assert min(caps.values()) >= 0
    assert result.stats["timed_out"] is True


def test_bound_also_holds_against_the_proven_optimum() -> None:
    requests, volunteers = clustered_instance(3000, 1200, 4)
    rushed = solve(requests, volunteers, SolveOptions(method="pricing", time_limit_s=1e-6))
    best = solve(requests, volunteers, SolveOptions(method="pricing"))
    assert best.optimal and best.bound is None
    assert rushed.bound is not None
    for u in (3, 2, 1):
        assert rushed.bound.served_by_urgency[u] >= best.served_by_urgency[u]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1e-6, None]))
def test_bound_is_never_below_the_answer(seed: int, limit: float | None) -> None:
    requests, volunteers = clustered_instance(60, 25, seed)
    result = solve(requests, volunteers, SolveOptions(method="pricing", time_limit_s=limit))
    if result.bound is None:
        assert result.optimal
        return
    for u in (3, 2, 1):
        assert result.bound.served_by_urgency[u] >= result.served_by_urgency[u]
    assert result.bound.km_lower_bound <= result.total_km


def test_unserved_requests_bound_counts_only_reachable_ones() -> None:
    requests = [req("R1", 0.0, urgency=3), req("R2", 50.0, urgency=3)]  # R2 is 50 km away from everyone
    result = solve(requests, [vol("V1", 1.0, capacity=2)], SolveOptions(method="pricing", time_limit_s=1e-6))
    assert result.bound is not None and result.bound.served_by_urgency[3] == 1


def test_total_km_is_exactly_the_sum_of_the_printed_km() -> None:
    requests, volunteers = clustered_instance(800, 300, 9)
    doc = json.loads(json.dumps(result_to_json(solve(requests, volunteers))))
    assert sum(Decimal(str(a["km"])) for a in doc["assignments"]) == Decimal(str(doc["total_km"]))
    assert doc["distance_unit_m"] == 1 and "bound" not in doc


def test_cli_time_limit_prints_the_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(instance_to_json(*clustered_instance(3000, 1200, 2))))
    assert main(["solve", str(path), "--time-limit", "0.000001"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["optimal"] is False
    assert set(doc["bound"]) == {"served_by_urgency", "km_lower_bound"}
    assert all(doc["bound"]["served_by_urgency"][u] >= doc["served_by_urgency"][u] for u in ("1", "2", "3"))


@pytest.mark.parametrize("bad", ["0", "-3", "soon", "inf", "nan"])
@pytest.mark.parametrize("command", ["solve", "rounds"])
def test_cli_refuses_a_bad_time_limit(
    tmp_path: Path, bad: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "i.json"
    path.write_text(json.dumps({"requests": [], "volunteers": []}))
    with pytest.raises(SystemExit) as exc:
        main([command, str(path), "--time-limit", bad])
    assert exc.value.code == 2
    assert "--time-limit" in capsys.readouterr().err


def test_quick_first_answer_is_feasible_and_prefers_the_urgent() -> None:
    from matching.candidates import nearest_pairs
    from matching.problem import build_problem
    from matching.quick import quick_answer

    requests = [req("low", 0.1, urgency=1), req("urgent", 0.2, urgency=3)]
    p = build_problem(requests, [vol("V1", 0.0, capacity=1)])
    got = quick_answer(p, nearest_pairs(p, 4))
    assert got.tolist() == [-1, 0]  # sorted by id: "low", "urgent"; the only place goes to the urgent one

    requests2, volunteers2 = clustered_instance(2000, 700, 6)
    p2 = build_problem(requests2, volunteers2)
    vol_of = quick_answer(p2, nearest_pairs(p2, 4))
    load = {j: int((vol_of == j).sum()) for j in set(vol_of.tolist()) if j >= 0}
    assert all(load[j] <= p2.volunteers[j].capacity for j in load)
