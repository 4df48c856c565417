"""``solve``: exact lexicographic matching, in two phases with dual pricing at scale.

Small instances put every feasible pair into one flow with penalties for unserved requests
(:mod:`matching.flow`, the reference). Large ones start from each request's nearest feasible
volunteers and the first answer's pairs, then (:mod:`matching.lexflow`):

1. the most requests of urgency 3, then 2, then 1: maximum flows on the candidate pairs,
   proven for the whole feasibility graph by a Koenig cover checked with KD-tree queries;
   pairs that break the cover are added and the flows redone;
2. the fewest km with exactly those counts: a min-cost flow whose only costs are
   ``T * metres - bonus``; every excluded feasible pair is priced against its dual labels
   (:func:`matching.candidates.price`) and violators are added until none is left, which is
   the certificate that the restricted optimum is optimal for the whole problem.

Anytime: with a time limit the first answer (deferred acceptance on the nearest pairs) is kept
from the start, each round's answer replaces it when better, and the run stops before a round
that would end past the limit; a phase 1 cut short keeps time for one fixed-count flow on the
pairs found so far. The answer then carries a :class:`matching.model.Bound` (see
:mod:`matching.bound`).

Measured for issue 13 (generated instances, seed 0, this 2-core machine shared with other
work; load average beside each figure; ``cpu`` is this process's CPU time):

* Where the time went before (100,000 x 50,000, ``solve --time-limit 2``, whole process 24 s
  under cProfile): the indented ``json.dump`` of the output 7.7 s (pure-Python encoder; now
  ``json.dumps``, C), ``nearest_pairs`` computed twice with lexsorts 5.6 s (now once, no
  re-ranking, one-key sort), parsing 3.7 s (now an inline fast path; the detailed messages
  only for a faulty item), explanations 4 s (the nearest candidate by a segmented minimum
  instead of a sort). After: first answer 1.19 s after the parse (load 4.1), 1.3 s of CPU for
  problem + nearest pairs + first answer.
* The old single phase (OR-Tools cost scaling with penalties ``u * K``, ``K = B*C + 1``,
  re-solved each round), 10,000 x 5,000: proven in 29 s wall, 17.7 s cpu (load 6), 5 rounds,
  about half in the flow solves and half in pricing, whose radii the huge penalty labels blew
  up to the volunteers' full range. The plain full-graph flow in the same run: 12.6 s build +
  22.9 s solve for 10.5 million pairs.
* OR-Tools min-cost flow on the 240,000 nearest pairs does not get much faster with small
  costs: 0.92 s with costs 0..3, 1.58 s with the penalty scheme, 1.74 s with metres and 1e8
  penalties (load 6.7). scipy's LAPJVsp (``min_weight_full_bipartite_matching``, slots
  expanded by capacity, a dummy column per request) took 1.72 s on the same graph: no gain,
  and with the penalty scheme its float64 costs would stop being exact at 100,000 requests
  (sums near 1e18 > 2**53). Not kept.
* Phase 1 by Hopcroft-Karp (scipy ``maximum_bipartite_matching`` on capacity-expanded
  slots): 152 s over 7 rounds at 10,000 (why it slows so, on rounds 5-7, was not looked into). With
  OR-Tools max flow instead: 7 rounds in 1.1-2.6 s. Kept.
* Two phases, 10,000 x 5,000: proven in 11.5-16.5 s wall with JSON in and out, 10.1-13.3
  cpu (load 4-5); the bench at load 5.2: 11.5 s wall (10.1 cpu), proven 8.9 s after the
  parse, against 23.5 s for the plain flow (8.1 s build + 15.4 s solve) in the same run.
  Phase 1 proves the counts in about 1 s; the 4-5 fixed-count rounds cost about 1 s of
  OR-Tools and 1.5 s of pricing each. Pricing with volunteers lifted to a fourth coordinate
  by their label (a ball query that still holds every violator) was not faster: 14.0 s wall,
  12.9 cpu against 12.0 s, 10.8 cpu (load 4): not kept.
* 100,000 x 50,000 with ``--time-limit 60``: phase 1 adds ~1 million pairs a round and its
  flow grows ~1,000 requests a round, not proven after 8 rounds (23 s); the fixed-count flow
  on the 7.8 million pairs found then took 20 s. Answer: 14,918 / 25,119 / 49,417 served
  (urgency 3 and 2 equal to their bound), 42,836 km, 46 s wall, 1.7 GB peak (load 4.1).
* Earlier sessions: successive shortest paths in numba (167-330 s a round at 10,000, penalties
  of ~1e11 make each unservable request search its whole alternating region) was not kept.

* Time-limited, 100,000 x 50,000 (``--time-limit 60``): phase 1 stopped after 8 rounds (33 s) with
  no room for a fixed-count flow on all 7.8 million candidate pairs, so the answer was the first
  one (deferred acceptance): 14,054 / 20,625 / 39,646 served, the run over at 33 s of the 60. Now
  that flow runs, when all the pairs do not fit, on the pairs the last round's three prefix flows
  used plus the nearest (0.8 million; they always hold that round's counts, see
  :class:`matching.lexflow.CountsRound`), 7.9-10.4 s: 14,918 / 25,119 / 51,009 served (urgency 3
  and 2 at their bound), the answer at 46.8 s, 50.2 s in all with JSON in and out (load ~1).
  Pricing is also started only when it should end by the limit: at 10,000 x 5,000 with
  ``--time-limit 2`` it used to start at 1.5 s and end the run at 3.3 s.

* Pricing, 10,000 x 5,000: the four rounds' searches met 21 million pairs in range, of which 9 million were
  within the look-ahead of violating and were sorted by a three-key lexsort to keep each request's 16 best; 5.3 s
  of a 10.5 s run. Now a pair is measured (haversine, exclusions) only when its lowest possible cost, from the
  chord the tree returned, could still violate, and the sort is one int64 key: pricing 3.8 s, and the whole
  ``solve`` CLI 9.50 s against 10.97 s (three interleaved runs each, same answer byte for byte).

* Pricing's blocks searched in two threads (the tree searches and array work release the GIL for much of their
  time): the solve CLI at 10,000 x 5,000 took 9.6-10.8 s against 10.6-13.5 s in one (three interleaved runs each,
  the same answer). Rebuilding the blocks across signatures, to have a few hundred large blocks instead of about
  1,700 small ones a round, with skills checked on the pairs found, was slower (pricing 6.7 s against 4.7-5.0 s):
  the trees then return every volunteer in range, not only those with the skills.

* Phase 1 at 100,000 x 50,000 (``--time-limit 60``): urgency 3 and urgency 3 and 2 were proven in the first
  round, yet every round solved their flows again (2-3.5 s a round by the fifth). A proven prefix is now carried
  to the next round (:class:`matching.lexflow.ProvenPrefix`). Interleaved with the code before, seed 0: five rounds
  in 35.0 and 36.6 s against 40.3 s, the run over at 49-53 s; the code before fitted only four rounds in its
  other run (and in one of two of the commit before it) and then served 50,296 urgency-1 requests against
  52,719. Seed 1: 36.5 s against 43.6 s, the same served. The km of the time-limited answer moved by 2-3 %
  (72,510 against 70,117 on seed 0, 68,515 against 67,018 on seed 1): the fixed-count flow at the limit runs on
  the pairs the prefix flows used, and a carried prefix's pairs are those of the round that proved it.

* HiGHS's simplex kept warm between rounds (the issue's first candidate), measured on phase 2 at 10,000 x 5,000
  (seed 0, the same 418,962 starting pairs and counts, the same pricing, a quiet machine): the first LP took 18.3 s
  (134,735 iterations) where OR-Tools' flow takes 0.35 s; each later round, from the last basis with the new
  columns added, 17.7, 10.1, 3.5 and 3.3 s, where OR-Tools solving from scratch takes 0.56-0.82 s. Phase 2 in all
  57.4 s against 6.3 s, the same optimum. Not kept, and highspy is no longer installed: it cannot even be loaded in
  a process that has loaded OR-Tools (each bundles HiGHS; whichever is imported second fails on an undefined
  symbol), so the LP had to run in a process of its own for this measurement.

So at 10,000 x 5,000 the proven optimum comes in about 1.3-2x faster than the plain flow, not
the 4x and 2 s asked for, and 100,000 x 50,000 is not proven in 60 s: the flow solver cannot be warm-started
and every round re-prices millions of pairs. See the closing note for what is left.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from matching.bound import anytime_bound
from matching.candidates import Pairs, all_feasible_pairs, contains, feasible_only, merge, nearest_pairs, price
from matching.explain import build_assignments, build_unmatched, nearest_candidate
from matching.flow import solve_flow
from matching.geometry import chord_for_km
from matching.lexflow import COVER_PAIRS_PER_VOLUNTEER, CountsRound, class_labels, counts_round, solve_fixed_counts
from matching.model import MatchResult, Request, SolveOptions, Volunteer
from matching.problem import IntArray, Problem, build_problem
from matching.quick import quick_answer

#: Guess of one round's cost per candidate pair before any round is timed (measured ~1-7 us
#: per pair for a counting round on a busy 2-core machine; the larger figure is taken).
ROUND_SECONDS_PER_PAIR = 8e-6
#: Guess of one fixed-count min-cost flow's cost per candidate pair (~2 us measured at 10,000
#: requests under load), kept in reserve by a time-limited phase 1.
FLOW_SECONDS_PER_PAIR = 4e-6
#: ... and its growth with the instance: the same flow costs more per pair as the requests (and so the units of
#: flow) grow. Measured: a fixed-count flow on 827,000 pairs at 100,000 requests took 10.4 s (12.6 us a pair).
FLOW_SECONDS_PER_PAIR_PER_REQUEST = 1.5e-10
#: Guess of one pricing round (labels and the search for violators) per request, before one is timed: 1.2-1.3 s
#: measured at 10,000 requests, where most volunteers are full and millions of pairs are near violating.
PRICE_SECONDS_PER_REQUEST = 1.5e-4


#: Pairs phase 1 adds for each volunteer outside the cover in a round (:func:`matching.lexflow.counts_round`), by
#: the instance's size. At region scale phase 1 does not finish within a coordinator's time limit, and more pairs
#: a round serve more by then: 100,000 x 50,000 with ``--time-limit 60`` answered 52,719 urgency-1 requests served
#: with 16 against 51,938 with 4 (urgency 3 and 2 at their bound either way; two interleaved runs each, the same
#: answers). At 10,000 x 5,000, where phase 1 proves the counts in about a second either way, 16 carries more
#: pairs into phase 2 and is slower: 10.0-10.9 s against 8.7-9.1 s (three interleaved runs each).
COVER_PAIRS_PER_VOLUNTEER_AT_SCALE = 16
AT_SCALE_REQUESTS = 50_000


def cover_pairs_per_volunteer(n_requests: int) -> int:
    return COVER_PAIRS_PER_VOLUNTEER_AT_SCALE if n_requests >= AT_SCALE_REQUESTS else COVER_PAIRS_PER_VOLUNTEER


def solve(
    requests: Iterable[Request], volunteers: Iterable[Volunteer], options: SolveOptions | None = None
) -> MatchResult:
    """Match requests to volunteers optimally.

    Maximises urgency-3 requests served, then urgency-2, then urgency-1, then minimises total
    distance; among those answers keeps as many preferred (request, volunteer) pairs as possible.
    The result is independent of input order. ``optimal`` is True when proven; with
    ``options.time_limit_s`` the best answer found in time comes back with a :class:`Bound`.
    """
    opts = options or SolveOptions()
    t0 = time.perf_counter()
    deadline = None if opts.time_limit_s is None else t0 + max(0.0, opts.time_limit_s)
    p = build_problem(list(requests), list(volunteers))
    method = opts.method
    if method == "auto":
        # The full graph is one uninterruptible flow, so a time limit always means pricing.
        small = opts.time_limit_s is None and estimate_pairs(p) <= opts.full_graph_max_pairs
        method = "full" if small else "pricing"
    history: list[dict[str, object]] = []
    phase1_rounds, phase1_seconds = 0, 0.0
    t1 = time.perf_counter()
    if method == "full":
        pairs = all_feasible_pairs(p)
        t2 = time.perf_counter()
        sol = solve_flow(p, pairs)
        optimal, rounds, priced = True, 1, 0
        history.append(_snapshot(p, sol.vol_of, time.perf_counter() - t0, len(pairs), opts))
    else:
        near = nearest_pairs(p, opts.candidates_per_request)
        # A first answer at once (deferred acceptance on the nearest pairs, array operations only):
        # it stands if time runs out before the first flow, and its pairs seed the candidates.
        g = quick_answer(p, near)
        history.append(_snapshot(p, g, time.perf_counter() - t0, 0, opts))
        vol_of, best = g, history[-1]
        pairs = _seed_pairs(p, near, g)
        t2 = time.perf_counter()
        optimal, rounds, priced = False, 0, 0
        counts: dict[int, int] | None = None
        last: CountsRound | None = None
        # Phase 1: the most requests of each urgency, proven on the whole feasibility graph. With a time limit,
        # room is kept for a fixed-count flow on the last round's used pairs and the nearest ones (below).
        per_pair = max(FLOW_SECONDS_PER_PAIR, FLOW_SECONDS_PER_PAIR_PER_REQUEST * p.n)
        while not _out_of_time(deadline, history, len(pairs), _fallback_size(p, near) * per_pair):
            last = counts_round(p, pairs, cover_pairs_per_volunteer(p.n), last.proven if last else None)
            phase1_rounds += 1
            history.append(_snapshot(p, last.vol_of, time.perf_counter() - t0, len(pairs), opts))
            if _better(history[-1], best):
                vol_of, best = last.vol_of, history[-1]
            if len(last.violators) == 0:
                counts = last.counts
                break
            # Violators are never candidates already (a candidate of a request in Z is in Z).
            priced += len(last.violators)
            pairs = merge(pairs, last.violators)
        phase1_seconds = time.perf_counter() - t2
        if counts is None and last is not None:
            # Out of time before the counts were proven. The last round's flows serve the most it found, but the
            # last one is not urgent first and none minds the km: the fewest km for those counts is taken on every
            # candidate pair when that flow fits the time left, else on the pairs its flows used and the nearest
            # (which always hold those counts). Not proven optimal: the bound says how far it may be.
            def fits(n_pairs: int) -> bool:
                return not _out_of_time(deadline, [], n_pairs, 0.0, per_pair)

            subset = pairs if fits(len(pairs)) else merge(near, last.used)
            if fits(len(subset)):
                sol = solve_fixed_counts(p, subset, last.counts)
                history.append(_snapshot(p, sol.vol_of, time.perf_counter() - t0, len(subset), opts))
                if _better(history[-1], best):
                    vol_of, best = sol.vol_of, history[-1]
        # Phase 2: fewest km (then most preferred pairs) with exactly those counts.
        price_seconds: float | None = None
        while counts is not None and not _out_of_time(deadline, history):
            sol = solve_fixed_counts(p, pairs, counts)
            rounds += 1
            history.append(_snapshot(p, sol.vol_of, time.perf_counter() - t0, len(pairs), opts))
            if _better(history[-1], best):
                vol_of, best = sol.vol_of, history[-1]
            # Pricing cannot be interrupted either: it is started only when it should end in time (as long as the
            # last one took, or a guess per request before any).
            if (
                deadline is not None
                and time.perf_counter() + (price_seconds or PRICE_SECONDS_PER_REQUEST * p.n) >= deadline
            ):
                break
            price_start = time.perf_counter()
            dr, dv = class_labels(p, pairs, sol)
            # Look-ahead: also fetch pairs that are within ``margin`` of violating. Shifting the
            # request labels down by ``margin`` makes price() return every pair of reduced cost
            # below ``margin`` (up to its per-request cap, most negative first, so true violators
            # come first). The certificate only needs the violators: none among them means none
            # at all, because a violator (reduced cost < 0) is also below the margin.
            margin = opts.lookahead_m // p.unit_m * p.tie_scale if rounds < opts.max_rounds else 0
            # Pairs already in the flow are not candidates: a pair the flow uses has no forward residual arc,
            # yet its reduced cost may be negative (a preferred pair's cost is below zero), which counted it
            # as a violator for ever and the proof never came (found by the brute-force property test).
            extra = price(p, dr - margin, dv)
            extra = extra.take(~contains(pairs, extra))
            violators = int((dr[extra.r] + extra.cost < dv[extra.v]).sum())
            if violators == 0:
                optimal = True
                break
            if rounds >= opts.max_rounds:
                break
            priced += len(extra)
            pairs = merge(pairs, extra)
            price_seconds = time.perf_counter() - price_start
    if optimal:
        vol_of = sol.vol_of
    t3 = time.perf_counter()
    nearest = nearest_candidate(p, pairs)
    assignments = build_assignments(p, pairs, vol_of, opts.explain, nearest)
    unmatched = build_unmatched(p, pairs, vol_of, nearest)
    served = {u: int(((vol_of >= 0) & (p.req_urgency == u)).sum()) for u in (3, 2, 1)}
    stats: dict[str, object] = {
        "method": method,
        "requests": p.n,
        "volunteers": p.m,
        "candidate_pairs": len(pairs),
        "rounds": rounds,
        "counts_rounds": phase1_rounds,
        "counts_seconds": round(phase1_seconds, 4),
        "priced_pairs_added": priced,
        "distance_unit_m": p.unit_m,
        "timed_out": not optimal and _out_of_time(deadline, history),
        "preferred_kept": sum(1 for a in assignments if a.preferred_kept),
        "build_seconds": round(t1 - t0, 4),
        "candidates_seconds": round(t2 - t1, 4),
        "solve_seconds": round(t3 - t2, 4),
        "explain_seconds": round(time.perf_counter() - t3, 4),
        "history": history,
    }
    return MatchResult(
        assignments=tuple(assignments),
        unmatched=tuple(unmatched),
        served_by_urgency=served,
        # Whole metres summed as integers: total_km is exactly the sum of the printed km.
        total_km=sum(round(a.km * 1000) for a in assignments) / 1000,
        optimal=optimal,
        stats=stats,
        bound=None if optimal else anytime_bound(p, vol_of),
        distance_unit_m=p.unit_m,
    )


def _out_of_time(
    deadline: float | None,
    history: list[dict[str, object]],
    pairs: int = 0,
    reserve: float = 0.0,
    per_pair: float | None = None,
) -> bool:
    """True when the next round (plus ``reserve`` seconds) would likely end after the deadline.

    A flow cannot be interrupted. The next round is assumed to take as long as the last one
    (rounds grow slowly as pairs are added); before any round has been timed, ``per_pair``
    seconds (default ``ROUND_SECONDS_PER_PAIR``) per candidate pair stand in, so a short limit
    at 100,000 requests is not overrun by a first round of several seconds. The answer then
    comes back near the limit rather than one round after it.
    """
    if deadline is None:
        return False
    now = time.perf_counter()
    times = [float(h["seconds"]) for h in history]  # type: ignore[arg-type]
    guess = pairs * (ROUND_SECONDS_PER_PAIR if per_pair is None else per_pair)
    last = times[-1] - times[-2] if len(times) >= 2 else guess
    return now + last + reserve >= deadline


def _fallback_size(p: Problem, near: Pairs) -> int:
    """Pairs of the fixed-count flow a time-limited phase 1 keeps room for: the nearest, and at most one pair per
    request for each of the three prefix flows."""
    return len(near) + 3 * p.n


def _better(a: dict[str, object], b: dict[str, object]) -> bool:
    """Lexicographically better answer: more served by urgency (most urgent first), then fewer km."""
    sa, sb, ka, kb = a["served"], b["served"], a["total_km"], b["total_km"]
    assert isinstance(sa, list) and isinstance(sb, list) and isinstance(ka, float) and isinstance(kb, float)
    return (sa, -ka) > (sb, -kb)


def _seed_pairs(p: Problem, near: Pairs, g: IntArray) -> Pairs:
    """Each request's nearest feasible volunteers plus the first answer's pairs.

    The first answer's pairs make the first restricted flow serve at least as many requests,
    urgency by urgency, as that answer does, so the first duals are already close.
    """
    s = np.flatnonzero(g >= 0)
    return merge(near, feasible_only(p, s, g[s]))


def estimate_pairs(p: Problem, sample: int = 256) -> int:
    """Upper estimate of the feasible pair count from an evenly spaced sample of requests."""
    if p.n == 0 or p.m == 0:
        return 0
    idx = np.unique(np.linspace(0, p.n - 1, min(sample, p.n)).astype(np.int64))
    total = 0
    for grp in p.groups:
        sel = idx[np.isin(idx, grp.requests)]
        if sel.size and grp.members.size:
            total += int(
                grp.tree.query_ball_point(p.req_xyz[sel], float(chord_for_km(grp.max_km)), return_length=True).sum()
            )
    return total * p.n // idx.size


def _snapshot(p: Problem, vol_of: np.ndarray, seconds: float, pairs: int, opts: SolveOptions) -> dict[str, object]:  # type: ignore[type-arg]
    """Objective of one round, so the bench can tell when it came within 0.1% of the optimum."""
    from matching.geometry import haversine_km_arrays

    s = np.flatnonzero(vol_of >= 0)
    km = haversine_km_arrays(p.req_lat[s], p.req_lon[s], p.vol_lat[vol_of[s]], p.vol_lon[vol_of[s]])
    served = [int((p.req_urgency[s] == u).sum()) for u in (3, 2, 1)]
    snap: dict[str, object] = {
        "seconds": round(seconds, 4),
        # CPU of the whole process so far: on a shared, busy machine wall time overstates work.
        "cpu_seconds": round(time.process_time(), 4),
        "served": served,
        "total_km": round(float(km.sum()), 3),
        "pairs": pairs,
    }
    if opts.progress is not None:
        opts.progress(snap)
    return snap
