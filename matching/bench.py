"""``python -m matching bench``: the engine beside greedy (and the plain full-graph flow) in one run."""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

import numpy as np

from matching.candidates import all_feasible_pairs
from matching.flow import solve_flow
from matching.generate import clustered_instance, instance_to_json
from matching.geometry import haversine_km_arrays
from matching.greedy import greedy
from matching.jsonio import bound_to_json, parse_instance, result_to_json
from matching.model import SolveOptions
from matching.problem import IntArray, Problem, build_problem
from matching.solver import solve

FULL_BASELINE_LIMIT = 10_000 * 5_000


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux; it is the whole process's high-water mark so far.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_seconds() -> float:
    """User + system CPU of this process so far: on a shared, busy machine wall time overstates work."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return round(ru.ru_utime + ru.ru_stime, 3)


def _summary(p: Problem, vol_of: IntArray) -> tuple[list[int], float]:
    s = np.flatnonzero(vol_of >= 0)
    km = haversine_km_arrays(p.req_lat[s], p.req_lon[s], p.vol_lat[vol_of[s]], p.vol_lon[vol_of[s]])
    return [int((p.req_urgency[s] == u).sum()) for u in (3, 2, 1)], round(float(km.sum()), 3)


def _progress(what: str, **fields: Any) -> None:
    """One line on stderr per step, so a long run is never silent (stdout keeps the one JSON line)."""
    print(json.dumps({"progress": what, **fields}, sort_keys=True), file=sys.stderr, flush=True)


def run_bench(
    n_requests: int,
    n_volunteers: int,
    seed: int,
    full_baseline: bool = True,
    time_limit_s: float | None = None,
    greedy_baseline: bool = True,
) -> dict[str, Any]:
    """Generate, solve through the JSON path, run greedy and the baseline; return one JSON-able line."""
    requests, volunteers = clustered_instance(n_requests, n_volunteers, seed)
    text = json.dumps(instance_to_json(requests, volunteers))
    _progress("generated", requests=n_requests, volunteers=n_volunteers, json_bytes=len(text))
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    reqs, vols = parse_instance(json.loads(text))
    _progress("parsed", seconds=round(time.perf_counter() - t0, 3))

    def answer(snap: dict[str, object]) -> None:
        _progress("answer", **dict(snap), since_start=round(time.perf_counter() - t0, 3))

    result = solve(reqs, vols, SolveOptions(time_limit_s=time_limit_s, progress=answer))
    out_text = json.dumps(result_to_json(result))
    pipeline = time.perf_counter() - t0
    cpu_pipeline = _cpu_seconds() - cpu0
    peak_engine = _peak_mb()
    served = [result.served_by_urgency[u] for u in (3, 2, 1)]
    stats = result.stats
    history: list[dict[str, Any]] = stats["history"]  # type: ignore[assignment]
    _progress("solved", seconds=round(pipeline, 3), optimal=result.optimal)
    line: dict[str, Any] = {
        "requests": n_requests,
        "volunteers": n_volunteers,
        "seed": seed,
        "method": stats["method"],
        "candidate_pairs": stats["candidate_pairs"],
        "rounds": stats["rounds"],
        "candidates_seconds": stats["candidates_seconds"],
        "solve_seconds": stats["solve_seconds"],
        "explain_seconds": stats["explain_seconds"],
        "pipeline_seconds_json_in_out": round(pipeline, 3),
        "pipeline_cpu_seconds": round(cpu_pipeline, 3),
        "output_bytes": len(out_text),
        "peak_rss_mb_engine": peak_engine,
        "optimal": result.optimal,
        "served_by_urgency": served,
        "served_total": sum(served),
        "total_km": result.total_km,
        "preferred_kept": stats["preferred_kept"],
        "distance_unit_m": stats["distance_unit_m"],
        "time_limit_s": time_limit_s,
        "seconds_to_first_answer": history[0]["seconds"] if history else None,
        # Process CPU from the start of the JSON parse (the engine snapshots carry process CPU).
        "cpu_seconds_to_first_answer": round(float(history[0]["cpu_seconds"]) - cpu0, 3) if history else None,
        "seconds_to_proven_optimum": history[-1]["seconds"] if result.optimal else None,
        "seconds_to_within_0.1pct": _time_to_within(history, served, result.total_km) if result.optimal else None,
        "bound": None if result.bound is None else bound_to_json(result.bound),
    }
    checks: dict[str, bool] = {}
    p = build_problem(requests, volunteers)
    if greedy_baseline:
        _progress("greedy baseline started")
        t = time.perf_counter()
        g_served, g_km = _summary(p, greedy(p))
        line["greedy"] = {
            "seconds": round(time.perf_counter() - t, 3),
            "served_by_urgency": g_served,
            "served_total": sum(g_served),
            "total_km": g_km,
        }
        checks = {
            "urgent_not_below_greedy": served[0] >= g_served[0],
            "urgent_or_soon_not_below_greedy": served[0] + served[1] >= g_served[0] + g_served[1],
            "total_not_below_greedy": sum(served) >= sum(g_served),
        }
    if full_baseline and n_requests * n_volunteers <= FULL_BASELINE_LIMIT:
        _progress("full-graph baseline started")
        t = time.perf_counter()
        pairs = all_feasible_pairs(p)
        t_build = time.perf_counter() - t
        f_served, f_km = _summary(p, solve_flow(p, pairs).vol_of)
        line["full_graph"] = {
            "pairs": len(pairs),
            "build_seconds": round(t_build, 3),
            "solve_seconds": round(time.perf_counter() - t - t_build, 3),
            "served_by_urgency": f_served,
            "total_km": f_km,
            "peak_rss_mb_after": _peak_mb(),
        }
        checks["same_served_as_full_graph"] = f_served == served
        # Costs are whole metres, so equal optima can differ by up to half a metre per assignment.
        checks["same_km_as_full_graph"] = abs(f_km - result.total_km) <= 0.0005 * sum(served) + 1e-6
    line["checks"] = checks
    line["checks_passed"] = all(checks.values())
    return line


def _time_to_within(history: list[dict[str, Any]], served: list[int], km: float) -> float | None:
    """First round whose answer served the optimal counts with at most 0.1% more distance."""
    for h in history:
        if h["served"] == served and h["total_km"] <= km * 1.001 + 1e-9:
            return float(h["seconds"])
    return None
