"""Delivery rounds: hand-checked cases, the rules as properties, the urgency rule, and the CLI."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching.rounds as rounds_module
from matching.cli import main
from matching.distances import RoutingServer, StraightLine
from matching.rounds import _groups, _polish, best_swap, plan_rounds
from matching.rounds_baseline import nearest_neighbour
from matching.rounds_bench import rounds_instance
from matching.rounds_model import RoundsInstance, RoundsInstanceError, Stop, Vehicle, parse_rounds, simulate

HUB = (51.5, -0.2)
KM_LAT = 111.2


def stop(
    sid: str, km_north: float, parcels: int = 1, urgency: int = 1, window: tuple[float, float] = (0, 1440)
) -> Stop:
    return Stop(sid, HUB[0] + km_north / KM_LAT, HUB[1], parcels, urgency, window, 0.0)


def instance(stops: list[Stop], vehicles: list[Vehicle], speed: float = 60.0) -> RoundsInstance:
    return RoundsInstance(HUB, tuple(stops), tuple(vehicles), speed_kmh=speed, road_factor=1.0)


def check_rules(inst: RoundsInstance, result: Any) -> None:
    """Every round obeys capacity, windows and shift; every stop is served once or listed with a reason."""
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    index = {s.id: i for i, s in enumerate(inst.stops)}
    vehicles = {v.id: v for v in inst.vehicles}
    seen: list[str] = []
    for r in result.routes:
        plan = [index[s] for s in r.stops]
        visit = simulate(inst, km, vehicles[r.vehicle], plan)
        assert visit.feasible
        veh = vehicles[r.vehicle]
        assert sum(inst.stops[i].parcels for i in plan) <= veh.capacity
        for i, t in zip(plan, r.arrivals, strict=True):
            lo, hi = inst.stops[i].window
            assert lo - 0.01 <= t <= hi + 0.01
        assert veh.shift[0] - 0.01 <= r.end_min <= veh.shift[1] + 0.01
        seen.extend(r.stops)
    unserved = [i for i, _ in result.unserved]
    assert all(why for _, why in result.unserved)
    assert sorted(seen + unserved) == sorted(s.id for s in inst.stops)
    assert len(seen) == len(set(seen))
    assert abs(result.total_km - sum(r.km for r in result.routes)) < 1e-6


def test_one_car_visits_both_stops_out_and_back() -> None:
    inst = instance([stop("A", 2.0), stop("B", 4.0)], [Vehicle("V", 5, (0, 600))])
    res = plan_rounds(inst, 1.0)
    assert [r.stops for r in res.routes] == [("A", "B")]
    assert res.routes[0].km == pytest.approx(8.0, abs=0.01)  # 4 km out, 4 km back
    assert res.routes[0].arrivals == pytest.approx((2.0, 4.0), abs=0.01)  # 60 km/h: a km a minute
    check_rules(inst, res)


def test_parcels_beyond_every_capacity_are_unserved_with_the_reason() -> None:
    inst = instance([stop("A", 1.0, parcels=9)], [Vehicle("V", 5, (0, 600))])
    res = plan_rounds(inst, 1.0)
    assert res.unserved == (("A", "more_parcels_than_any_vehicle_carries"),)


def test_a_window_no_shift_reaches_is_unserved_with_the_reason() -> None:
    inst = instance([stop("A", 30.0, window=(0, 10))], [Vehicle("V", 5, (0, 600))])  # 30 minutes away
    res = plan_rounds(inst, 1.0)
    assert res.unserved == (("A", "window_out_of_reach_of_every_shift"),)


def test_the_urgent_stop_takes_the_only_place() -> None:
    inst = instance([stop("low", 1.0, urgency=1), stop("urgent", 3.0, urgency=3)], [Vehicle("V", 1, (0, 600))])
    res = plan_rounds(inst, 1.0)
    assert [r.stops for r in res.routes] == [("urgent",)]
    assert res.unserved == (("low", "no_room_on_any_round"),)
    assert res.served_by_urgency == {3: 1, 2: 0, 1: 0}


def test_swap_puts_an_urgent_stop_in_place_of_a_less_urgent_one() -> None:
    inst = instance([stop("low", 1.0, urgency=1), stop("urgent", 3.0, urgency=3)], [Vehicle("V", 1, (0, 600))])
    km = StraightLine(1.0).matrix_km(inst.points())
    fit = best_swap(inst, km, 0, [0], 1)
    assert fit is not None and fit[1] == [1]


def every_swap(inst: RoundsInstance, km: Any, k: int, plan: list[int], i: int) -> tuple[float, list[int]] | None:
    """`best_swap` by brute force: every stop one less urgent given up (or none) and every position, each simulated."""
    veh, u = inst.vehicles[k], inst.stops[i].urgency
    best: tuple[float, list[int]] | None = None
    for out in [None, *(j for j, o in enumerate(plan) if inst.stops[o].urgency < u)]:
        base = plan if out is None else plan[:out] + plan[out + 1 :]
        for pos in range(len(base) + 1):
            visit = simulate(inst, km, veh, base[:pos] + [i] + base[pos:])
            if visit.feasible and (best is None or visit.km < best[0]):
                best = (visit.km, base[:pos] + [i] + base[pos:])
        if best is not None and out is None:
            return best
    return best


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_best_swap_finds_what_trying_every_position_finds(data: st.DataObject) -> None:
    inst = data.draw(small_rounds())
    if not inst.stops:
        return
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    i = data.draw(st.integers(0, len(inst.stops) - 1))
    others = [j for j in range(len(inst.stops)) if j != i]
    # Any order of any stops, feasible or not: the screening must never hide a position simulate accepts.
    plan = data.draw(st.permutations(others).map(lambda p: p[: data.draw(st.integers(0, len(p)))]))
    k = data.draw(st.integers(0, len(inst.vehicles) - 1))
    fast, slow = best_swap(inst, km, k, list(plan), i), every_swap(inst, km, k, list(plan), i)
    assert (fast is None) == (slow is None)
    if fast is not None and slow is not None:
        assert fast[0] == pytest.approx(slow[0], abs=1e-9)
        assert simulate(inst, km, inst.vehicles[k], fast[1]).feasible and i in fast[1]
        assert len(set(plan) - set(fast[1])) <= (1 if len(fast[1]) == len(plan) else 0)


@st.composite
def small_rounds(draw: st.DrawFn) -> RoundsInstance:
    n = draw(st.integers(0, 9))
    stops = [
        Stop(
            f"S{i}",
            HUB[0] + draw(st.floats(-8, 8)) / KM_LAT,
            HUB[1] + draw(st.floats(-8, 8)) / 69.2,
            draw(st.integers(0, 4)),
            draw(st.integers(1, 3)),
            draw(st.sampled_from([(480.0, 720.0), (720.0, 1020.0), (480.0, 1020.0), (500.0, 510.0)])),
            float(draw(st.integers(0, 20))),
        )
        for i in range(n)
    ]
    vehicles = [
        Vehicle(
            f"V{k}", draw(st.integers(0, 8)), draw(st.sampled_from([(480.0, 600.0), (480.0, 1020.0), (700.0, 800.0)]))
        )
        for k in range(draw(st.integers(1, 3)))
    ]
    return RoundsInstance(HUB, tuple(stops), tuple(vehicles), draw(st.sampled_from([15.0, 30.0])), 1.3)


@settings(max_examples=40, deadline=None)
@given(small_rounds())
def test_rounds_never_break_a_rule_and_urgent_stops_are_never_squeezed_out(inst: RoundsInstance) -> None:
    res = plan_rounds(inst, 0.2)
    check_rules(inst, res)
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    index = {s.id: i for i, s in enumerate(inst.stops)}
    plans = {r.vehicle: [index[s] for s in r.stops] for r in res.routes}
    for sid, _ in res.unserved:
        i = index[sid]
        for k, veh in enumerate(inst.vehicles):
            # No round could take this stop by giving up at most one less urgent stop (or none).
            assert best_swap(inst, km, k, plans.get(veh.id, []), i) is None


def assert_urgent_never_squeezed_out(inst: RoundsInstance, res: Any) -> None:
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    index = {s.id: i for i, s in enumerate(inst.stops)}
    plans = {r.vehicle: [index[s] for s in r.stops] for r in res.routes}
    for sid, _ in res.unserved:
        for k, veh in enumerate(inst.vehicles):
            assert best_swap(inst, km, k, plans.get(veh.id, []), index[sid]) is None


@settings(max_examples=20, deadline=None)
@given(small_rounds())
def test_rounds_planned_by_sectors_keep_every_rule(inst: RoundsInstance) -> None:
    res = plan_rounds(inst, 0.2, sector_stops=2)
    check_rules(inst, res)
    assert_urgent_never_squeezed_out(inst, res)


@pytest.mark.parametrize(("seed", "workers"), [(0, 1), (1, 1), (0, 2)])
def test_a_generated_day_by_sectors_keeps_every_rule_and_serves_as_many_as_the_baseline(
    seed: int, workers: int
) -> None:
    inst = rounds_instance(120, 10, seed)
    # Two workers: the 4 sectors are searched two at a time, each in its own process.
    res = plan_rounds(inst, 3.0, sector_stops=30, workers=workers)
    check_rules(inst, res)
    assert_urgent_never_squeezed_out(inst, res)
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    base = nearest_neighbour(inst, km)
    base_served = sum(len(plan) for plan in base)
    # Never fewer stops than the baseline (the planner keeps the better of the two plans).
    assert sum(len(r.stops) for r in res.routes) >= base_served


def plan_km(inst: RoundsInstance, km: Any, plans: list[list[int]]) -> float:
    visits = [simulate(inst, km, inst.vehicles[k], plan) for k, plan in enumerate(plans) if plan]
    assert all(v.feasible for v in visits)
    return sum(v.km for v in visits)


@pytest.mark.parametrize(("seed", "workers"), [(0, 1), (1, 1), (2, 2)])
def test_polish_drives_fewer_km_serving_the_same_stops_within_every_rule(
    seed: int, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Groups of 2 rounds, so the 10 rounds of a small day make 5 groups.
    monkeypatch.setattr(rounds_module, "POLISH_ROUNDS", 2)
    inst = rounds_instance(120, 10, seed)
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    start = nearest_neighbour(inst, km)
    before = plan_km(inst, km, start)
    with rounds_module._processes(workers) as pool:
        after = _polish(inst, km, [list(p) for p in start], time.perf_counter() + 3.0, workers, pool)
    assert sorted(i for p in after for i in p) == sorted(i for p in start for i in p)
    # Each group's rounds are replaced only by shorter ones that keep every rule; from the baseline some are.
    assert plan_km(inst, km, after) < before


def test_polish_leaves_a_plan_of_too_few_rounds_for_two_groups_alone() -> None:
    inst = rounds_instance(40, 4, 0)
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    start = nearest_neighbour(inst, km)
    assert _groups(inst, start, 0) == []
    assert _polish(inst, km, [list(p) for p in start], time.perf_counter() + 1.0) == start


def test_groups_cover_every_round_once_and_move_their_seams_each_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds_module, "POLISH_ROUNDS", 4)
    inst = rounds_instance(120, 10, 0)
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    plans = nearest_neighbour(inst, km)
    used = sorted(k for k, p in enumerate(plans) if p)
    first, second = _groups(inst, plans, 0), _groups(inst, plans, 1)
    for groups in (first, second):
        assert sorted(k for g in groups for k in g) == used
        assert all(len(g) >= 2 for g in groups)
    assert first != second


def test_sectors_of_no_stops_are_refused() -> None:
    inst = rounds_instance(10, 2, seed=0)
    with pytest.raises(ValueError, match="sector_stops must be at least 1, not 0"):
        plan_rounds(inst, 0.2, sector_stops=0)


def test_baseline_obeys_the_same_rules() -> None:
    inst = rounds_instance(60, 6, 3)
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    for veh, plan in zip(inst.vehicles, nearest_neighbour(inst, km), strict=True):
        assert simulate(inst, km, veh, plan).feasible


def _baseline_by_simulation(inst: RoundsInstance, km: Any) -> list[list[int]]:
    """The baseline as its rule reads, a simulate per candidate: the nearest stop (then the lowest number) whose
    round still obeys every rule; then first-improvement 2-opt, each reversal simulated."""
    left = set(range(len(inst.stops)))
    plans = []
    for veh in inst.vehicles:
        plan: list[int] = []
        while True:
            here = plan[-1] + 1 if plan else 0
            fits = [i for i in sorted(left, key=lambda i: (km[here, i + 1], i))
                    if simulate(inst, km, veh, [*plan, i]).feasible]  # fmt: skip
            if not fits:
                break
            plan.append(fits[0])
            left.discard(fits[0])
        best, improved = simulate(inst, km, veh, plan).km, True
        while improved:
            improved = False
            for i in range(len(plan) - 1):
                for j in range(i + 1, len(plan)):
                    cand = plan[:i] + plan[i : j + 1][::-1] + plan[j + 1 :]
                    visit = simulate(inst, km, veh, cand)
                    if visit.feasible and visit.km < best - 1e-9:
                        plan, best, improved = cand, visit.km, True
        plans.append(plan)
    return plans


@pytest.mark.parametrize(
    ("stops", "vehicles", "seed", "one_way"),
    [(120, 10, 0, False), (90, 12, 5, True), (0, 3, 1, False), (5, 0, 1, False), (30, 3, 2, False)],
)
def test_baseline_is_the_rule_worked_out_without_a_simulation_per_candidate(
    stops: int, vehicles: int, seed: int, one_way: bool
) -> None:
    inst = rounds_instance(stops, vehicles, seed)
    if stops == 30:  # a stop too big for any car and one whose window opens after every shift ends
        big = dataclasses.replace(inst.stops[0], parcels=999)
        late = dataclasses.replace(inst.stops[1], window=(1400.0, 1410.0))
        inst = dataclasses.replace(inst, stops=(big, late, *inst.stops[2:]))
    km = StraightLine(inst.road_factor).matrix_km(inst.points())
    if one_way:  # a routing server's km differ by direction: the 2-opt screen must not assume otherwise
        km = km * np.random.default_rng(seed).uniform(1.0, 1.3, km.shape)
    plans = nearest_neighbour(inst, km)
    assert plans == _baseline_by_simulation(inst, km)
    if stops == 30:
        assert 0 not in sum(plans, []) and 1 not in sum(plans, [])


def test_routing_server_provider_reads_an_osrm_table() -> None:
    asked: list[str] = []

    def fetch(url: str, timeout: float) -> Any:
        asked.append(url)
        return {"code": "Ok", "distances": [[0, 1500], [1600, 0]]}

    km = RoutingServer("http://router.example/", fetch=fetch).matrix_km([(51.5, -0.2), (51.6, -0.1)])
    assert np.allclose(km, [[0, 1.5], [1.6, 0]])
    assert asked[0].startswith("http://router.example/table/v1/driving/-0.200000,51.500000;")


def test_routing_server_errors_are_reported() -> None:
    bad = RoutingServer("http://x", fetch=lambda url, t: {"code": "NoRoute"})
    with pytest.raises(RuntimeError, match="without distances"):
        bad.matrix_km([(51.5, -0.2)])


GOOD: dict[str, Any] = {
    "hub": {"lat": 51.5, "lon": -0.2},
    "stops": [
        {"id": "A", "lat": 51.51, "lon": -0.2, "parcels": 2, "urgency": 3, "window": [480, 720], "service_min": 5},
        {"id": "B", "lat": 51.52, "lon": -0.21, "parcels": 1, "urgency": 1, "window": [480, 1020], "service_min": 3},
    ],
    "vehicles": [{"id": "V1", "capacity": 10, "shift": [480, 780]}],
    "speed_kmh": 30,
    "road_factor": 1.3,
}


def test_cli_rounds_prints_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(GOOD))
    assert main(["rounds", str(path), "--time-limit", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"routes", "unserved", "total_km", "served_by_urgency"}
    assert doc["routes"][0]["vehicle"] == "V1" and sorted(doc["routes"][0]["stops"]) == ["A", "B"]
    assert set(doc["routes"][0]) == {"vehicle", "stops", "arrivals", "km", "end_min"}
    assert doc["unserved"] == [] and doc["served_by_urgency"] == {"3": 1, "2": 0, "1": 1}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["stops"][1].update(parcels=-1), "stops[1] (id 'B')"),
        (lambda d: d["stops"][0].update(window=[700, 600]), "stops[0] (id 'A')"),
        (lambda d: d["stops"][0].pop("lat"), "stops[0] (id 'A')"),
        (lambda d: d["stops"][1].update(id="A"), "duplicate"),
        (lambda d: d["vehicles"][0].update(shift="morning"), "vehicles[0] (id 'V1')"),
        (lambda d: d["vehicles"][0].update(capacity=2.5), "vehicles[0] (id 'V1')"),
        (lambda d: d.pop("hub"), "hub"),
        (lambda d: d.update(speed_kmh=0), "speed_kmh"),
        (lambda d: d["stops"][0].update(urgency=4), "urgency"),
    ],
)
def test_cli_rounds_refuses_bad_input_naming_the_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, named: str
) -> None:
    data = json.loads(json.dumps(GOOD))
    change(data)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    assert main(["rounds", str(path)]) == 2
    assert named in capsys.readouterr().err


def test_parse_refuses_a_non_object() -> None:
    with pytest.raises(RoundsInstanceError):
        parse_rounds([1, 2])


@pytest.mark.parametrize("workers", ["0", "65", "two", "1.5", "-1", ""])
def test_cli_rounds_refuses_a_number_of_workers_that_is_not_one(
    workers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(GOOD))
    with pytest.raises(SystemExit) as refused:
        main(["rounds", str(path), "--workers", workers])
    assert refused.value.code == 2
    assert "--workers: must be a whole number of processes from 1 to 64" in capsys.readouterr().err


def test_bench_rounds_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-rounds", "--stops", "30", "--vehicles", "4", "--time-limit", "1"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert {"seconds", "total_km", "served", "baseline", "km_saving_vs_baseline"} <= set(line)
    assert line["baseline"]["method"] == "nearest neighbour + 2-opt"
