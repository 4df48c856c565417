"""Food-parcel delivery rounds: OR-Tools routing with capacities, windows, shifts and urgency.

Model: node 0 is the hub, node i+1 is stop i. Arc cost is road metres. Time runs in whole
seconds (travel rounded up, so a plan OR-Tools accepts also passes :func:`simulate`, which
uses exact minutes). Each stop may be dropped at a penalty that grows lexicographically with
urgency: dropping one stop of urgency ``u`` costs more than dropping every stop of lower
urgency and driving every possible metre, so the search only gives up an urgent stop when no
arrangement it finds has room. Guided local search then improves the plan until the limit.

A last repair pass makes the urgency rule hold for every answer, whatever the search reached:
an urgent stop left out is swapped in for one less urgent stop of a round whenever the round
stays feasible (capacity, windows, shift). It tries only the stops whose parcels make room, and
only the positions an O(n) check of windows and shift finds on time
(:func:`matching.rounds_model.insertion_points`), instead of simulating every position of every
variant of every round: on an overloaded day (500 stops, 14 cars, ``--time-limit 0.05``) the
whole run took 8.6 s before and 1.7 s after, the same plan.

Measured for issue 13 (``bench-rounds``, seed 0, both plans serve every stop, same urgency
split; ``cpu`` is the planner's CPU, which on this shared 2-core machine is often far below
the wall-clock limit):

* Arc costs and travel times were Python callbacks, evaluated once per arc per move; now
  matrices held by OR-Tools (``RegisterTransitMatrix``). 200 stops / 20 vehicles, 10 s:
  17.2 % fewer km than the baseline before, 19.8-22.3 % after (goal met).
* 1,000 stops / 80 vehicles, 60 s, one search started from the nearest-neighbour plan:
  2.5 % with 17 s cpu (load 9-12), 11.2 % with 51 s cpu (load 5.5). Other starts for the
  whole plan, same budget, all worse: PATH_CHEAPEST_ARC -1.3 %, PARALLEL_CHEAPEST_INSERTION
  -8.2 % (fewer routes, more km), SAVINGS left 31 stops out; local search restricted to the
  40 nearest stops (``ls_operator_neighbors_ratio``) 0.0 %; every stop made compulsory when
  the start serves them all 11.0 %. Not kept.
* Sectors (kept): the stops cut by direction from the hub into 5 sectors of equal parcels,
  each searched on its own; at first for 90 % of the budget, then the whole plan from there,
  but that last search overran the limit by 9 s building its model (69 s in all), so the
  sectors now get the whole budget. Cars
  shared by total parcels: 15.7 % (seed 0, 46 s cpu) but on seed 2 one sector had no car
  for 204 stops and the plan fell back to the baseline (0 %); cars shared by the windows
  their shift reaches: seed 0 13.2-13.7 % (34-41 s cpu, load 7-10), seed 2 14.9-15.0 %
  (37-44 s cpu). 4 sectors 14.6 %, 6 sectors 12.3 % (26 s cpu, load 9). Each sector
  started from savings instead of its nearest-neighbour plan: seed 0 14.0 %, seed 2 13.3 %
  with only 20-22 s cpu (load 11-15), so kept. Final: seed 0 14.3 % (49 s cpu, load 5.3),
  seed 2 14.3 % (58 s cpu, load 4.3), both within 60.1 s, every stop served.
  The instance is tight: 2,034 parcels for 2,435 places (84 %; 72 % at 200 stops), so most
  cars must go out full and the nearest-neighbour plan, which fills each car from the nearest
  cluster, is not far off. 15 % at 1,000 stops is within reach on this machine only when the
  run gets most of a core; it was not reached reliably here.
* Sectors searched two at a time in their own processes (``workers=2``, this 2-core machine,
  60 s, quiet): one process searching 5 sectors in turn gave 14.6 % (seed 0, 59.9 s cpu). With
  two processes, 4 sectors get 29 s each: seed 0 16.6 %, seed 1 16.5 %, seed 2 14.0 % (116 s
  cpu in 59.1-59.2 s). 5 sectors (three turns of 19.5 s, one core idle in the last): seed 0
  14.7 %, seed 2 16.0 %; 6 sectors: seed 0 11.0 %, seed 2 15.5 %. Kept: the number of sectors
  rounded down to a multiple of the workers. Processes are spawned, not forked (a web or job
  process has threads); their start-up (about 1 s of imports) is kept out of the search time.
* Polish (kept): the sectors' search had converged well before the limit (a whole-plan search
  from their answer for 60 s: 880.9 -> 878.9 km, seed 2), so the sectors now get half the
  budget (at most 12 s) and the rest searches groups of 6 neighbouring rounds (by direction
  from the hub) with 2 unused cars, two groups at a time, each from its current rounds for
  0.5-1 s; a group's new rounds are kept only when they serve the same stops within every rule
  in fewer km, and each sweep moves the seams by half a group. Before, 10 s: seeds 0/1/2
  15.0-15.2 / 15.1 / 12.9 %; 60 s: 16.5 / 16.5 / 14.0 %. After (two runs), 10 s: 16.1-16.3 /
  16.0-16.2 / 13.1-13.6 % (9.6-9.8 s); 60 s: 17.9-18.1 / 18.8-19.4 / 15.8-17.3 % (59.8 s), every
  stop served; 200 stops / 20 vehicles (no sectors, unchanged), seeds 0/2: 23.3 / 29.1 % (10 s),
  24.0 / 32.3 % (60 s). Tried: a quarter or 70 % of the budget on the sectors, groups of 5,
  7 or 8 rounds, 0 or 4 spare cars, 0.3 s a group: none better on all three seeds. With one
  worker (sectors in turn, the app's default), 10 s was about even: seed 0 13.2 % (13.7 %
  before), seed 2 13.2 % (13.0 %); 60 s: seed 0 15.5 %, seed 2 14.8 % (14.3-14.6 % before).
* Time given back to the search (kept): the baseline, worked out first inside the limit, took 1.5-1.6 s at 1,000
  stops and now 0.1 s (:mod:`matching.rounds_baseline`), and the processes now start while it is worked out and
  the sectors wait for them, instead of a guessed 1.5 s start-up taken from their time. 10 s, seeds 2 / 0:
  12.7 / 13.4 % before, 12.8 / 13.2 % after (seed 1 13.6 %) on a day when this machine ran slower than above:
  no gain to show, because the sectors converge early (seed 2: 883.8 km after 5 s of sectors, 883.4 km after
  9.7 s). Sectors of 125 or 160 stops instead of 200, seeds 0-3 at 10 s: 12.5-15.1 % and 11.6-16.2 % against
  12.8-14.3 %, no better on average and noisier. Not kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from matching.distances import DistanceProvider, StraightLine
from matching.geometry import FloatArray
from matching.rounds_baseline import nearest_neighbour
from matching.rounds_model import RoundsInstance, insertion_points, servable_alone, simulate

SAVINGS_MAX_STOPS = 400
SECTOR_STOPS = 200
# Above SAVINGS_MAX_STOPS: the sectors get half the budget, at most SECTOR_MAX_S (their search has converged by
# then); the rest polishes groups of POLISH_ROUNDS neighbouring rounds, each group searched for a fiftieth of the
# polish time, between 0.5 and 1 s. FINISH_S is kept for the last repair and the answer.
SECTOR_SHARE = 0.5
SECTOR_MAX_S = 12.0
POLISH_ROUNDS = 6
POLISH_SPARE_CARS = 2
POLISH_GROUP_S = (0.5, 1.0)
POLISH_MIN_S = 0.2
FINISH_S = 0.3


@dataclass(frozen=True, slots=True)
class Route:
    vehicle: str
    stops: tuple[str, ...]
    arrivals: tuple[float, ...]
    km: float
    end_min: float


@dataclass(frozen=True, slots=True)
class RoundsResult:
    routes: tuple[Route, ...]
    unserved: tuple[tuple[str, str], ...]
    total_km: float
    served_by_urgency: dict[int, int]


def plan_rounds(
    inst: RoundsInstance,
    time_limit_s: float = 10.0,
    provider: DistanceProvider | None = None,
    sector_stops: int | None = None,
    workers: int = 1,
) -> RoundsResult:
    """Plan every vehicle's round; stops that fit nowhere come back in ``unserved`` with a reason.

    Up to ``SAVINGS_MAX_STOPS`` stops the search starts from OR-Tools' savings heuristic.
    Above that the stops are cut into sectors of about ``SECTOR_STOPS`` (``sector_stops``
    forces that at any size, for tests), each searched on its own (:func:`_by_sectors`), up to
    ``workers`` sectors at once in their own processes, and then groups of neighbouring rounds
    are searched again together until the time is up (:func:`_polish`). Either way the
    answer is the better of the search's and the nearest-neighbour plan, by urgent stops served
    first, then km, so it is never worse than the baseline.
    """
    if sector_stops is not None and sector_stops < 1:
        raise ValueError(f"sector_stops must be at least 1, not {sector_stops}")
    t0 = time.perf_counter()
    n = len(inst.stops)
    per_sector = sector_stops if sector_stops is not None else (SECTOR_STOPS if n > SAVINGS_MAX_STOPS else None)
    # Stops per sector when the plan is searched by sectors, else None.
    sized = per_sector if per_sector is not None and n >= 2 * per_sector else None
    # The processes start (about a second each, importing OR-Tools) while this one works out the km and baseline.
    with _processes(workers if sized is not None else 1) as pool:
        km = (provider or StraightLine(inst.road_factor)).matrix_km(inst.points())
        nn = _urgency_repair(inst, km, nearest_neighbour(inst, km))
        left = max(0.5, time_limit_s - (time.perf_counter() - t0))
        if sized is not None:
            # A share of the budget on the sectors, the rest polishing neighbouring rounds together (a search of
            # the whole plan afterwards spent 9 s of a 60 s budget just building its model at 1,000 stops, and
            # then barely moved). Stops a sector had no room for are put in by the urgency repair first.
            # With too few cars for two groups there is nothing to polish: the sectors have it all.
            deadline = t0 + time_limit_s - FINISH_S
            share = min(left * SECTOR_SHARE, SECTOR_MAX_S) if len(inst.vehicles) >= 2 * POLISH_ROUNDS else left
            found = _by_sectors(inst, km, share, sized, workers, pool)
            found = _polish(inst, km, _urgency_repair(inst, km, found), deadline, workers, pool)
        elif n <= SAVINGS_MAX_STOPS:
            found = _search(inst, km, left, first="SAVINGS")
        else:
            found = _search(inst, km, left, first="PATH_CHEAPEST_ARC", seed=nn)
    found = _urgency_repair(inst, km, found)
    a, b = build_result(inst, km, found), build_result(inst, km, nn)
    return a if _rank(a) >= _rank(b) else b


def _by_sectors(
    inst: RoundsInstance,
    km: FloatArray,
    time_limit_s: float,
    sector_stops: int,
    workers: int = 1,
    pool: _Processes | None = None,
) -> list[list[int]]:
    """Split the stops into angular sectors around the hub, each with its share of the cars; search each.

    Guided local search converges far faster on a few hundred stops than on a thousand. The
    sectors are contiguous in direction from the hub with equal parcels. Cars are shared out
    by what they can reach: morning cars by each sector's morning-only parcels, afternoon cars
    by its afternoon-only parcels, whole-day cars by what is left (sharing every kind by total
    parcels left 204 stops without a car on one instance). Each sector starts from OR-Tools'
    savings heuristic (as the whole plan does up to 400 stops); stops a sector still leaves out
    are for the caller to place.

    With ``workers`` > 1 the sectors are searched that many at a time, each in its own process (the
    routing search is single-threaded), and their number is rounded down to a multiple of it, so
    every sector gets the same share of the time: 4 sectors on 2 workers get half the budget each
    instead of a quarter.
    """
    t0 = time.perf_counter()
    if pool is not None:
        pool.started()  # within the sectors' time: the caller's limit holds
    n = len(inst.stops)
    k = max(1, min(n // sector_stops, len(inst.vehicles)))
    workers = max(1, min(workers, k))
    k = max(workers, k - k % workers)
    angle = np.array([_direction(inst, s.lat, s.lon) for s in inst.stops], dtype=np.float64)
    parcels = np.array([s.parcels for s in inst.stops], dtype=np.float64)
    order = np.argsort(angle, kind="stable")
    # Start the cut at the widest angular gap so no cluster is split across the +-pi seam.
    gaps = np.diff(np.r_[angle[order], angle[order[0]] + 2 * math.pi])
    order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    cum = np.cumsum(parcels[order])
    sectors = [part.tolist() for part in np.split(order, np.searchsorted(cum, cum[-1] * np.arange(1, k) / k))]
    cars = _share_cars(inst, sectors)
    work = [(sec, vs, *_sub_instance(inst, km, sec, vs)) for sec, vs in zip(sectors, cars, strict=True) if sec and vs]
    plans: list[list[int]] = [[] for _ in inst.vehicles]
    if pool is not None and len(work) > 1:
        # The same time for each sector, ``workers`` at a time.
        waves = -(-len(work) // workers)
        each = max(0.2, (time_limit_s - (time.perf_counter() - t0)) / waves)
        found_all = _searched(pool, [(sub, sub_km, each, "SAVINGS", None) for _, _, sub, sub_km in work])
    else:
        found_all = []
        for j, (_, _, sub, sub_km) in enumerate(work):
            left = max(0.2, (time_limit_s - (time.perf_counter() - t0)) / (len(work) - j))
            found_all.append(_search(sub, sub_km, left, first="SAVINGS"))
    for (sec, vs, _, _), found in zip(work, found_all, strict=True):
        _put_back(plans, vs, sec, found)
    return plans


def _direction(inst: RoundsInstance, lat: float, lon: float) -> float:
    """Direction of a place from the hub, in radians (a degree east weighed by the cosine of the hub's latitude)."""
    lat0, lon0 = inst.hub
    return math.atan2(lat - lat0, (lon - lon0) * math.cos(math.radians(lat0)))


def _sub_instance(
    inst: RoundsInstance, km: FloatArray, stops: list[int], cars: list[int]
) -> tuple[RoundsInstance, FloatArray]:
    """These stops and cars as an instance of their own (stop ``j`` of it is ``stops[j]``), with their km."""
    sub = RoundsInstance(
        inst.hub, tuple(inst.stops[i] for i in stops), tuple(inst.vehicles[k] for k in cars),
        inst.speed_kmh, inst.road_factor,
    )  # fmt: skip
    nodes = np.r_[0, np.array(stops, dtype=np.int64) + 1]
    return sub, km[np.ix_(nodes, nodes)]


def _put_back(plans: list[list[int]], cars: list[int], stops: list[int], found: list[list[int]]) -> None:
    """A sub-instance's rounds (of its stop numbers) as the whole plan's rounds for those cars."""
    for x, plan in enumerate(found):
        plans[cars[x]] = [stops[i] for i in plan]


class _Processes(ProcessPoolExecutor):
    """``workers`` fresh processes for the searches ("spawn": safe from a threaded web or job process, where forking
    could copy a lock another thread holds), shared by the sectors and the polish. Each is started at once, and
    imports numpy and OR-Tools (about a second) while the caller works out the km and the baseline; the sectors
    wait for what is left of that (:meth:`started`) within their own time, measured instead of guessed."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, mp_context=get_context("spawn"))
        # One task per process: while none is idle, each submit starts another.
        self._starting = [self.submit(_ready) for _ in range(workers)]

    def started(self) -> None:
        wait(self._starting)


def _ready() -> None:
    """Nothing: run in a new process, it has imported this module (numpy, OR-Tools) on the way."""


@contextmanager
def _processes(workers: int) -> Iterator[_Processes | None]:
    """Processes for ``workers`` searches at once (:class:`_Processes`); None for one worker, which searches here."""
    if workers <= 1:
        yield None
        return
    with _Processes(workers) as pool:
        yield pool


# The arguments of one :func:`_search`: instance, km, seconds, first-solution strategy, start (or None).
SearchCall = tuple[RoundsInstance, FloatArray, float, str, list[list[int]] | None]


def _searched(pool: Executor | None, calls: list[SearchCall]) -> list[list[list[int]]]:
    """Each call's :func:`_search`: in the pool's processes when there is one and more than one call, else here."""
    if pool is None or len(calls) < 2:
        return [_search(*call) for call in calls]
    futures = [pool.submit(_search, *call) for call in calls]
    return [f.result() for f in futures]


def _polish(
    inst: RoundsInstance,
    km: FloatArray,
    plans: list[list[int]],
    deadline: float,
    workers: int = 1,
    pool: Executor | None = None,
) -> list[list[int]]:
    """Search small groups of neighbouring rounds again, together, until the deadline; keep what got shorter.

    The rounds are put in order of direction from the hub (of their stops' middle) and cut into groups of
    ``POLISH_ROUNDS``, each with up to ``POLISH_SPARE_CARS`` unused cars. Each group is searched on its own from
    its current rounds, for a fiftieth of the time left (within ``POLISH_GROUP_S``). Its new rounds replace the
    old only when they serve the same stops, obey every rule and drive fewer km, so the stops served never change.
    Each sweep starts half a group further round, so the seams move. With a pool, ``workers`` groups are searched
    at a time; they never share a round or a car.
    """
    sweep = 0
    group_s = min(POLISH_GROUP_S[1], max(POLISH_GROUP_S[0], (deadline - time.perf_counter()) / 50))
    while deadline - time.perf_counter() > POLISH_MIN_S:
        groups = _groups(inst, plans, sweep)
        if not groups:
            break
        for start in range(0, len(groups), workers):
            left = deadline - time.perf_counter()
            if left <= POLISH_MIN_S:
                break
            spare = [k for k, plan in enumerate(plans) if not plan]
            spare = spare[sweep % len(spare) :] + spare[: sweep % len(spare)] if spare else []
            wave = [
                _group_work(inst, km, plans, [*cars, *spare[j * POLISH_SPARE_CARS : (j + 1) * POLISH_SPARE_CARS]])
                for j, cars in enumerate(groups[start : start + workers])
            ]
            each = min(group_s, left)
            found_all = _searched(
                pool, [(sub, sub_km, each, "PATH_CHEAPEST_ARC", seed) for *_, sub, sub_km, seed in wave]
            )
            for (cars, stops, sub, sub_km, seed), found in zip(wave, found_all, strict=True):
                if _shorter(sub, sub_km, seed, found):
                    _put_back(plans, cars, stops, found)
        sweep += 1
    return plans


def _groups(inst: RoundsInstance, plans: list[list[int]], sweep: int) -> list[list[int]]:
    """The cars with a round, in order of direction from the hub, cut into groups of about ``POLISH_ROUNDS``;
    each sweep starts half a group further round. Empty when there are too few rounds for two groups."""
    used = [k for k, plan in enumerate(plans) if plan]
    if len(used) < 2 * POLISH_ROUNDS:
        return []

    def direction(k: int) -> float:
        lat = sum(inst.stops[i].lat for i in plans[k]) / len(plans[k])
        lon = sum(inst.stops[i].lon for i in plans[k]) / len(plans[k])
        return _direction(inst, lat, lon)

    order = sorted(used, key=direction)
    shift = (sweep * (POLISH_ROUNDS // 2)) % len(order)
    order = order[shift:] + order[:shift]
    groups = [order[s : s + POLISH_ROUNDS] for s in range(0, len(order), POLISH_ROUNDS)]
    if len(groups[-1]) < POLISH_ROUNDS // 2:
        groups[-2].extend(groups.pop())
    return groups


def _group_work(
    inst: RoundsInstance, km: FloatArray, plans: list[list[int]], cars: list[int]
) -> tuple[list[int], list[int], RoundsInstance, FloatArray, list[list[int]]]:
    """A group as an instance of its own: its cars, their stops, the instance and its km, and the cars' rounds
    (in the instance's stop numbers) as the search's start."""
    stops = [i for k in cars for i in plans[k]]
    at = {i: j for j, i in enumerate(stops)}
    return cars, stops, *_sub_instance(inst, km, stops, cars), [[at[i] for i in plans[k]] for k in cars]


def _shorter(sub: RoundsInstance, km: FloatArray, before: list[list[int]], after: list[list[int]]) -> bool:
    """The group's new rounds serve every stop its old ones did, obey every rule, and drive fewer km."""
    if sum(len(plan) for plan in after) != len(sub.stops):
        return False
    visits = [simulate(sub, km, sub.vehicles[k], plan) for k, plan in enumerate(after) if plan]
    old = sum(simulate(sub, km, sub.vehicles[k], plan).km for k, plan in enumerate(before) if plan)
    return all(v.feasible for v in visits) and sum(v.km for v in visits) < old - 1e-9


def _share_cars(inst: RoundsInstance, sectors: list[list[int]]) -> list[list[int]]:
    """Cars per sector: each car goes where its kind of shift is most short of places."""
    k = len(sectors)

    def demand(lo: float, hi: float) -> np.ndarray:  # type: ignore[type-arg]
        """Parcels per sector of stops whose window lies wholly inside [lo, hi]."""
        return np.array(
            [
                sum(
                    inst.stops[i].parcels
                    for i in sec
                    if lo <= inst.stops[i].window[0] and inst.stops[i].window[1] <= hi
                )
                for sec in sectors
            ],
            dtype=np.float64,
        )

    total = np.array([sum(inst.stops[i].parcels for i in sec) for sec in sectors], dtype=np.float64)
    given = np.zeros(k)
    out: list[list[int]] = [[] for _ in range(k)]
    # Narrow shifts first, by the parcels only they (or whole-day cars) can take; then the rest.
    shifts = sorted({v.shift for v in inst.vehicles}, key=lambda sh: sh[1] - sh[0])
    for shift in shifts:
        mine = sorted(
            (i for i, v in enumerate(inst.vehicles) if v.shift == shift), key=lambda i: -inst.vehicles[i].capacity
        )
        need = demand(*shift)
        if need.sum() == 0 or shift == shifts[-1]:
            need = np.maximum(total - given, 0.0) + 1e-9
        target = need / need.sum() * sum(inst.vehicles[i].capacity for i in mine)
        mine_given = np.zeros(k)
        for i in mine:
            j = int(np.argmax(target - mine_given))
            out[j].append(i)
            mine_given[j] += inst.vehicles[i].capacity
        given += mine_given
    return out


def _rank(res: RoundsResult) -> tuple[int, int, int, float]:
    return (res.served_by_urgency[3], res.served_by_urgency[2], res.served_by_urgency[1], -res.total_km)


def _search(
    inst: RoundsInstance, km: FloatArray, time_limit_s: float, first: str, seed: list[list[int]] | None = None
) -> list[list[int]]:
    """OR-Tools' answer: per vehicle, the stop indexes in visiting order."""
    n, m = len(inst.stops), len(inst.vehicles)
    if n == 0 or m == 0:
        return [[] for _ in range(m)]
    metres = np.rint(km * 1000).astype(np.int64)
    secs_per_km = 3600.0 / inst.speed_kmh
    travel = np.ceil(km * secs_per_km).astype(np.int64)
    service = np.array([0] + [math.ceil(s.service_min * 60) for s in inst.stops], dtype=np.int64)
    demand = [0] + [s.parcels for s in inst.stops]

    manager = pywrapcp.RoutingIndexManager(n + 1, m, 0)
    routing = pywrapcp.RoutingModel(manager)
    # Matrices held by OR-Tools in C++: a Python callback per arc evaluation made the local
    # search spend most of its budget in the interpreter (about 20x fewer moves at 1,000 stops).
    dist_cb = routing.RegisterTransitMatrix(metres.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    time_cb = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
    horizon = int(max([v.shift[1] for v in inst.vehicles] + [s.window[1] for s in inst.stops]) * 60) + 1
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    cap_cb = routing.RegisterUnaryTransitVector(demand)
    routing.AddDimensionWithVehicleCapacity(cap_cb, 0, [v.capacity for v in inst.vehicles], True, "parcels")
    for i, s in enumerate(inst.stops):
        idx = manager.NodeToIndex(i + 1)
        time_dim.CumulVar(idx).SetRange(math.ceil(s.window[0] * 60), math.floor(s.window[1] * 60))
    for k, v in enumerate(inst.vehicles):
        lo, hi = math.ceil(v.shift[0] * 60), math.floor(v.shift[1] * 60)
        time_dim.CumulVar(routing.Start(k)).SetRange(lo, hi)
        time_dim.CumulVar(routing.End(k)).SetRange(lo, hi)
    for i, pen in enumerate(drop_penalties(inst, metres)):
        routing.AddDisjunction([manager.NodeToIndex(i + 1)], pen)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))

    if seed is not None:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes([[i + 1 for i in plan] for plan in seed], True)
        sol = routing.SolveFromAssignmentWithParameters(start, params) if start is not None else None
    else:
        sol = routing.SolveWithParameters(params)
    plans: list[list[int]] = [[] for _ in range(m)]
    if sol is None:
        return plans
    for k in range(m):
        idx = sol.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            plans[k].append(manager.IndexToNode(idx) - 1)
            idx = sol.Value(routing.NextVar(idx))
    return plans


def drop_penalties(inst: RoundsInstance, metres: np.ndarray) -> list[int]:  # type: ignore[type-arg]
    """Penalty per stop: 1 + (everything cheaper put together), level by level of urgency.

    ``base`` exceeds any plan's total metres (every stop reached by its longest arc, twice),
    so distance never buys a drop; each level exceeds all lower levels dropped together.
    """
    n = len(inst.stops)
    base = int(2 * (n + len(inst.vehicles)) * (int(metres.max()) + 1)) + 1
    level = {1: base}
    count = {u: sum(1 for s in inst.stops if s.urgency == u) for u in (1, 2, 3)}
    level[2] = level[1] * (count[1] + 1) + base
    level[3] = level[2] * (count[2] + 1) + level[1] * (count[1] + 1) + base
    return [level[s.urgency] for s in inst.stops]


def _urgency_repair(inst: RoundsInstance, km: FloatArray, plans: list[list[int]]) -> list[list[int]]:
    """Put each dropped stop in, where a round stays feasible, giving up at most one less urgent stop.

    Repeats until nothing moves: a stop given up is tried elsewhere in the next pass. Every
    move serves a more urgent stop in place of a less urgent one (or one more stop), so the
    served counts rise lexicographically and the loop ends.
    """
    changed = True
    while changed:
        changed = False
        served = {i for plan in plans for i in plan}
        dropped = sorted((i for i in range(len(inst.stops)) if i not in served), key=lambda i: -inst.stops[i].urgency)
        for i in dropped:
            # A round with room (nobody given up) first, then the fewest km.
            best: tuple[bool, float, int, list[int]] | None = None
            for k, plan in enumerate(plans):
                fit = best_swap(inst, km, k, plan, i)
                if fit is not None:
                    key = (len(fit[1]) <= len(plan), fit[0], k, fit[1])
                    best = key if best is None or key[:2] < best[:2] else best
            if best is not None:
                plans[best[2]] = best[3]
                changed = True
    return plans


def best_swap(inst: RoundsInstance, km: FloatArray, k: int, plan: list[int], i: int) -> tuple[float, list[int]] | None:
    """Cheapest feasible round from ``plan`` with stop ``i`` inserted, dropping at most one less urgent stop.

    Inserting with no drop is tried too (the search may simply have missed it), and always preferred. Only the
    stops whose parcels make room are tried as the one dropped, and only the positions
    :func:`~matching.rounds_model.insertion_points` finds on time, cheapest first, until :func:`simulate` confirms one.
    """
    s = inst.stops[i]
    veh = inst.vehicles[k]
    room = veh.capacity - s.parcels - sum(inst.stops[j].parcels for j in plan)
    outs: list[int | None] = [None] if room >= 0 else []
    outs += [j for j, o in enumerate(plan) if inst.stops[o].urgency < s.urgency and room + inst.stops[o].parcels >= 0]
    best: tuple[float, list[int]] | None = None
    for out in outs:
        base = plan if out is None else plan[:out] + plan[out + 1 :]
        for pos in insertion_points(inst, km, veh, base, i):
            cand = base[:pos] + [i] + base[pos:]
            visit = simulate(inst, km, veh, cand)
            if visit.feasible:
                if best is None or visit.km < best[0]:
                    best = (visit.km, cand)
                break
        if best is not None and out is None:
            return best  # room without dropping anyone: always preferred
    return best


def build_result(inst: RoundsInstance, km: FloatArray, plans: list[list[int]]) -> RoundsResult:
    """Simulate each round for the reported times; give every stop not on a round its reason."""
    routes = []
    for k, plan in enumerate(plans):
        if not plan:
            continue
        visit = simulate(inst, km, inst.vehicles[k], plan)
        routes.append(
            Route(
                vehicle=inst.vehicles[k].id,
                stops=tuple(inst.stops[i].id for i in plan),
                arrivals=tuple(round(a, 2) for a in visit.arrivals),
                km=round(visit.km, 3),
                end_min=round(visit.end_min, 2),
            )
        )
    served = {i for plan in plans for i in plan}
    alone = servable_alone(inst, km) if len(served) < len(inst.stops) else []
    unserved = tuple((s.id, alone[i] or "no_room_on_any_round") for i, s in enumerate(inst.stops) if i not in served)
    by_u = {u: sum(1 for i in served if inst.stops[i].urgency == u) for u in (3, 2, 1)}
    # Whole metres as integers: total_km is exactly the sum of the printed route km.
    total = sum(round(r.km * 1000) for r in routes) / 1000
    return RoundsResult(tuple(routes), unserved, total, by_u)


def result_json(res: RoundsResult) -> dict[str, object]:
    """The CLI's output document."""
    return {
        "routes": [
            {
                "vehicle": r.vehicle,
                "stops": list(r.stops),
                "arrivals": list(r.arrivals),
                "km": r.km,
                "end_min": r.end_min,
            }
            for r in res.routes
        ],
        "unserved": [{"id": i, "reason": why} for i, why in res.unserved],
        "total_km": res.total_km,
        "served_by_urgency": {str(u): c for u, c in res.served_by_urgency.items()},
    }
