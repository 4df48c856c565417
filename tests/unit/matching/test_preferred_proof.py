"""Regressions found by the brute-force property test (tests/unit/matching/test_optimality.py)."""

from __future__ import annotations

from matching import Request, SolveOptions, Volunteer, solve


def _case() -> tuple[list[Request], list[Volunteer]]:
    requests = [
        Request(id=f"R{i}", lat=51.5, lon=-0.2, urgency=1, preferred="V2" if i == 3 else None) for i in range(4)
    ]
    volunteers = [Volunteer(id=f"V{i}", lat=51.5, lon=-0.2, max_km=1.0, capacity=1 if i == 2 else 0) for i in range(4)]
    return requests, volunteers


def test_a_kept_preferred_pair_does_not_stop_the_proof() -> None:
    """The flow used the preferred pair (its cost is below zero, so its reduced cost was negative), and pricing
    counted it as a violator in every round: 200 rounds, never proven. Pairs already in the flow are not priced."""
    requests, volunteers = _case()
    for method in ("pricing", "full"):
        result = solve(requests, volunteers, SolveOptions(method=method, candidates_per_request=1))  # type: ignore[arg-type]
        assert result.optimal, method
        assert [(a.request, a.volunteer) for a in result.assignments] == [("R3", "V2")]
        assert result.stats["rounds"] <= 2


def test_a_volunteer_who_takes_nothing_is_not_said_to_be_needed_elsewhere() -> None:
    requests, volunteers = _case()
    (kept,) = solve(requests, volunteers, SolveOptions(method="pricing")).assignments
    assert "is needed for :" not in kept.explanation
    assert "V0 (0.00 km) is nearer but takes no requests (capacity 0)" in kept.explanation
