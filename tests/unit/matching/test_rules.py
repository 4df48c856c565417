"""Hand-checkable instances: each constraint, each unmatched reason and the order they are decided in."""

from __future__ import annotations

import pytest
from matching_cases import req, vol

from matching import MatchResult, SolveOptions, solve
from matching.geometry import haversine_km

METHODS = [SolveOptions(method="full"), SolveOptions(method="pricing", candidates_per_request=1)]


def pairs(result: MatchResult) -> dict[str, str]:
    return {a.request: a.volunteer for a in result.assignments}


def reasons(result: MatchResult) -> dict[str, str]:
    return {u.request: u.reason for u in result.unmatched}


@pytest.mark.parametrize("opts", METHODS)
def test_volunteer_needs_every_required_skill(opts: SolveOptions) -> None:
    r = solve(
        [req("R1", skills=("car", "shopping"))], [vol("V1", skills=("car",)), vol("V2", 3, ("car", "shopping"))], opts
    )
    assert pairs(r) == {"R1": "V2"}
    assert r.assignments[0].skills_matched == ("car", "shopping")


@pytest.mark.parametrize("opts", METHODS)
def test_dbs_level_must_be_at_least_the_minimum(opts: SolveOptions) -> None:
    r = solve([req("R1", min_dbs="standard")], [vol("V1", dbs="basic"), vol("V2", 2, dbs="standard")], opts)
    assert pairs(r) == {"R1": "V2"}


@pytest.mark.parametrize("opts", METHODS)
def test_distance_limit_is_inclusive(opts: SolveOptions) -> None:
    r1, v1 = req("R1"), vol("V1", 2.0)
    exact = haversine_km(r1.lat, r1.lon, v1.lat, v1.lon)
    assert pairs(solve([r1], [vol("V1", 2.0, max_km=exact)], opts)) == {"R1": "V1"}
    assert pairs(solve([r1], [vol("V1", 2.0, max_km=exact - 1e-6)], opts)) == {}


@pytest.mark.parametrize("opts", METHODS)
def test_excluded_volunteer_is_never_assigned(opts: SolveOptions) -> None:
    r = solve([req("R1", excluded=("V1",))], [vol("V1"), vol("V2", 4)], opts)
    assert pairs(r) == {"R1": "V2"}


@pytest.mark.parametrize("opts", METHODS)
def test_capacity_limits_requests_per_volunteer(opts: SolveOptions) -> None:
    r = solve([req("R1"), req("R2", 0.1), req("R3", 0.2)], [vol("V1", capacity=2)], opts)
    assert len(r.assignments) == 2
    assert reasons(r) == {"R3": "capacity_taken"}


@pytest.mark.parametrize("opts", METHODS)
def test_zero_capacity_volunteer_takes_nothing(opts: SolveOptions) -> None:
    r = solve([req("R1")], [vol("V1", capacity=0)], opts)
    assert reasons(r) == {"R1": "capacity_taken"}


@pytest.mark.parametrize("opts", METHODS)
def test_urgent_request_wins_over_nearer_routine_one(opts: SolveOptions) -> None:
    r = solve([req("R1", 0.1, urgency=1), req("R2", 4.0, urgency=3)], [vol("V1")], opts)
    assert pairs(r) == {"R2": "V1"}
    assert "at least as urgent" in r.unmatched[0].detail


@pytest.mark.parametrize("opts", METHODS)
def test_urgency_two_beats_any_number_of_kilometres(opts: SolveOptions) -> None:
    r = solve([req("R1", 0.0, urgency=1), req("R2", 4.9, urgency=2)], [vol("V1", 0.0, max_km=5)], opts)
    assert pairs(r) == {"R2": "V1"}


@pytest.mark.parametrize("opts", METHODS)
def test_more_requests_served_beats_shorter_distance(opts: SolveOptions) -> None:
    # Nearest-first would give V1 to R1 and leave R2 without anyone; the optimum serves both.
    requests = [req("R1", 0.0), req("R2", 3.0)]
    volunteers = [vol("V1", 0.5, max_km=3), vol("V2", -2.0, max_km=2.5)]
    assert pairs(solve(requests, volunteers, opts)) == {"R1": "V2", "R2": "V1"}


@pytest.mark.parametrize("opts", METHODS)
def test_total_distance_is_minimised(opts: SolveOptions) -> None:
    r = solve([req("R1", 0.0), req("R2", 1.0)], [vol("V1", 0.9), vol("V2", 0.1)], opts)
    assert pairs(r) == {"R1": "V2", "R2": "V1"}
    assert r.total_km == pytest.approx(0.2, abs=1e-3)


@pytest.mark.parametrize("opts", METHODS)
def test_preferred_volunteer_kept_when_it_costs_nothing(opts: SolveOptions) -> None:
    # Both volunteers are 1 km from both requests: every answer has the same distance.
    requests = [req("R1", 0.0, preferred="V2"), req("R2", 0.0)]
    volunteers = [vol("V1", 1.0), vol("V2", -1.0)]
    r = solve(requests, volunteers, opts)
    assert pairs(r)["R1"] == "V2"
    assert r.assignments[0].preferred_kept
    assert "helped this resident before" in r.assignments[0].explanation


@pytest.mark.parametrize("opts", METHODS)
def test_preferred_volunteer_does_not_override_distance(opts: SolveOptions) -> None:
    r = solve([req("R1", preferred="V2")], [vol("V1", 0.5), vol("V2", 0.6)], opts)
    assert pairs(r) == {"R1": "V1"}


def test_explanation_says_why_not_the_nearest() -> None:
    requests = [req("R1", 0.0, urgency=1), req("R2", 0.2, urgency=3, skills=())]
    volunteers = [vol("V1", 0.1, max_km=1), vol("V2", -2.0, max_km=2.1)]
    r = solve(requests, volunteers)
    a = {x.request: x for x in r.assignments}
    assert a["R2"].volunteer == "V1"
    assert a["R1"].volunteer == "V2" and a["R1"].nearest_volunteer == "V1"
    assert "V1" in a["R1"].explanation and "R2" in a["R1"].explanation
    assert "2.00 km" in a["R1"].explanation


@pytest.mark.parametrize(
    ("request_", "volunteers", "reason"),
    [
        (req("R1", skills=("car",)), [vol("V1", skills=("shopping",))], "no_volunteer_with_skills"),
        (req("R1", skills=("car",), min_dbs="enhanced"), [vol("V1", skills=("car",), dbs="basic")], "dbs_level"),
        (req("R1"), [vol("V1", 6.0, max_km=5)], "none_within_distance"),
        (req("R1", excluded=("V1",)), [vol("V1")], "all_excluded"),
        (req("R1"), [vol("V1", capacity=0)], "capacity_taken"),
    ],
)
@pytest.mark.parametrize("opts", METHODS)
def test_each_unmatched_reason(request_: object, volunteers: list[object], reason: str, opts: SolveOptions) -> None:
    r = solve([request_], volunteers, opts)  # type: ignore[list-item]
    assert reasons(r) == {"R1": reason}
    assert r.unmatched[0].detail


@pytest.mark.parametrize(
    ("volunteers", "reason"),
    [
        # Skills fail for V1, DBS for V2, distance for V3: skills is not the first to leave nobody.
        ([vol("V1", dbs="basic"), vol("V2", 9, skills=("car",), dbs="basic")], "dbs_level"),
        # Excluded but also out of range: distance comes before exclusion.
        ([vol("V1", 9, skills=("car",), max_km=5)], "none_within_distance"),
        # One excluded and in range, one not excluded but out of range: distance leaves V1, exclusion removes it.
        ([vol("V1", 1, skills=("car",)), vol("V2", 9, skills=("car",), max_km=2)], "all_excluded"),
        # Wrong skills and too far: skills first.
        ([vol("V3", 9, max_km=1)], "no_volunteer_with_skills"),
    ],
)
def test_reasons_follow_the_precedence_order(volunteers: list[object], reason: str) -> None:
    request_ = req("R1", skills=("car",), min_dbs="standard", excluded=("V1",))
    assert reasons(solve([request_], volunteers)) == {"R1": reason}  # type: ignore[arg-type]


def test_unmatched_details_name_what_a_coordinator_can_act_on() -> None:
    r = solve([req("R1")], [vol("V1", 6.0, max_km=5)])
    assert "V1" in r.unmatched[0].detail and "6.00 km" in r.unmatched[0].detail and "5 km" in r.unmatched[0].detail


def test_empty_inputs() -> None:
    assert solve([], []).assignments == ()
    r = solve([req("R1")], [])
    assert reasons(r) == {"R1": "no_volunteer_with_skills"} and r.optimal
    assert solve([], [vol("V1")]).served_by_urgency == {3: 0, 2: 0, 1: 0}


def test_tie_scale_counts_only_preferred_volunteers_who_could_serve() -> None:
    from matching.problem import build_problem

    requests = [
        req("R1", preferred="V1"),
        req("R2", skills=("car",), preferred="V1"),
        req("R3", 20.0, preferred="V1"),
        req("R4", excluded=("V1",), preferred="V1"),
        req("R5", preferred="X"),
    ]
    # Only R1's preferred pair is feasible (R2 lacks the skill, R3 is out of range, R4 excludes V1).
    assert build_problem(requests, [vol("V1")]).tie_scale == 2


@pytest.mark.parametrize("opts", METHODS)
def test_many_preferred_pairs_still_only_break_ties(opts: SolveOptions) -> None:
    # Every request prefers the far volunteer; continuity must never buy a single metre.
    requests = [req(f"R{i}", 0.01 * i, preferred="VFAR") for i in range(6)]
    r = solve(requests, [vol("VNEAR", 0.0, capacity=6), vol("VFAR", 0.5, capacity=6)], opts)
    assert set(pairs(r).values()) == {"VNEAR"}
