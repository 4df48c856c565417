"""Plain-words explanations: why each assignment, and why each unmatched request was left out."""

from __future__ import annotations

import numpy as np

from matching.candidates import Pairs
from matching.geometry import haversine_km_arrays
from matching.model import DBS_LEVELS, Assignment, Unmatched, UnmatchedReason
from matching.problem import IntArray, Problem


def _skills_text(skills: frozenset[str]) -> str:
    return ", ".join(sorted(skills)) if skills else "no particular skills"


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


Nearest = tuple[IntArray, np.ndarray]  # type: ignore[type-arg]


def nearest_candidate(p: Problem, pairs: Pairs) -> Nearest:
    """Nearest candidate volunteer per request (-1 if none), ties broken by volunteer id.

    ``pairs`` are sorted by (request, volunteer), so the first pair of least km in each request's
    run is the answer: a segmented minimum, no sort of all pairs.
    """
    nearest_v = np.full(p.n, -1, dtype=np.int64)
    nearest_km = np.zeros(p.n)
    if len(pairs) == 0:
        return nearest_v, nearest_km
    starts = np.flatnonzero(np.r_[True, pairs.r[1:] != pairs.r[:-1]])
    rs = pairs.r[starts]
    least = np.minimum.reduceat(pairs.km, starts)
    # Within each request the first pair (lowest volunteer index) at that least km.
    at_least = pairs.km == np.repeat(least, np.diff(np.r_[starts, len(pairs)]))
    idx = np.flatnonzero(at_least)
    first = idx[np.searchsorted(idx, starts)]
    nearest_v[rs] = pairs.v[first]
    nearest_km[rs] = least
    return nearest_v, nearest_km


def build_assignments(
    p: Problem, pairs: Pairs, vol_of: IntArray, explain: bool, nearest: Nearest | None = None
) -> list[Assignment]:
    """One :class:`Assignment` per served request, ordered by request id."""
    served = np.flatnonzero(vol_of >= 0)
    if served.size == 0:
        return []
    v = vol_of[served]
    km = haversine_km_arrays(p.req_lat[served], p.req_lon[served], p.vol_lat[v], p.vol_lon[v])
    nearest_v, nearest_km = nearest or nearest_candidate(p, pairs)
    by_vol: dict[int, list[int]] = {}
    for r, vv in zip(served.tolist(), v.tolist(), strict=True):
        by_vol.setdefault(vv, []).append(r)
    out = []
    for i, r in enumerate(served.tolist()):
        req, vol = p.requests[r], p.volunteers[int(v[i])]
        k = float(km[i])
        nv = int(nearest_v[r])
        text = ""
        if explain:
            text = (
                f"{vol.id} is {k:.2f} km away (travels up to {vol.max_km:g} km); "
                f"skills needed: {_skills_text(req.skills)}; DBS {vol.dbs} meets the minimum ({req.min_dbs})."
            )
            if req.preferred == vol.id:
                text += " Keeps the volunteer who helped this resident before."
            if nv >= 0 and nv != int(v[i]):
                other = p.volunteers[nv]
                taken = [p.requests[x].id for x in by_vol.get(nv, [])]
                if other.capacity == 0:
                    text += f" {other.id} ({nearest_km[r]:.2f} km) is nearer but takes no requests (capacity 0)."
                elif len(taken) >= other.capacity:
                    text += (
                        f" The nearest suitable volunteer, {other.id} ({nearest_km[r]:.2f} km), is needed for "
                        f"{', '.join(taken)}: giving them this request instead would leave a more urgent "
                        "request unserved, serve fewer requests, or add more travel in total."
                    )
                else:
                    text += f" {other.id} ({nearest_km[r]:.2f} km) is as near to the metre."
        out.append(
            Assignment(
                request=req.id,
                volunteer=vol.id,
                km=round(k, 3),
                explanation=text,
                skills_matched=tuple(sorted(req.skills)),
                preferred_kept=req.preferred == vol.id,
                nearest_volunteer=p.volunteers[nv].id if nv >= 0 else None,
                nearest_km=round(float(nearest_km[r]), 3) if nv >= 0 else None,
            )
        )
    return out


def build_unmatched(p: Problem, pairs: Pairs, vol_of: IntArray, nearest: Nearest | None = None) -> list[Unmatched]:
    """One :class:`Unmatched` per unserved request, with the first filter that leaves nobody."""
    unserved = np.flatnonzero(vol_of < 0)
    nearest_v, nearest_km = nearest or nearest_candidate(p, pairs)
    has_pair = nearest_v >= 0
    out = []
    for r in unserved.tolist():
        if has_pair[r]:
            k, v = float(nearest_km[r]), int(nearest_v[r])
            out.append(
                Unmatched(
                    p.requests[r].id,
                    "capacity_taken",
                    f"Suitable volunteers are in range (the nearest is {p.volunteers[v].id}, {k:.2f} km "
                    "away), but all of them are fully booked with requests at least as urgent as this "
                    "one; taking one away would serve a more urgent request less or fewer requests.",
                )
            )
        else:
            reason, detail = _filter_chain(p, r)
            out.append(Unmatched(p.requests[r].id, reason, detail))
    return out


def _filter_chain(p: Problem, r: int) -> tuple[UnmatchedReason, str]:
    """Apply skills, DBS, distance, exclusion in that order; report the first that leaves nobody."""
    req = p.requests[r]
    with_skills = np.array([req.skills <= v.skills for v in p.volunteers], dtype=np.bool_).reshape(p.m)
    if not with_skills.any():
        return "no_volunteer_with_skills", (
            f"No available volunteer has all the skills needed ({_skills_text(req.skills)})."
        )
    ok = with_skills & (p.vol_dbs >= DBS_LEVELS.index(req.min_dbs))
    if not ok.any():
        return "dbs_level", (
            f"{_plural(int(with_skills.sum()), 'volunteer')} with the skills needed, but none has a "
            f"DBS check at '{req.min_dbs}' level or higher."
        )
    idx = np.flatnonzero(ok)
    km = haversine_km_arrays(
        np.full(idx.size, p.req_lat[r]), np.full(idx.size, p.req_lon[r]), p.vol_lat[idx], p.vol_lon[idx]
    )
    in_range = idx[km <= p.vol_max_km[idx]]
    if in_range.size == 0:
        j = int(np.lexsort((idx, km))[0])
        nv = p.volunteers[int(idx[j])]
        return "none_within_distance", (
            f"{_plural(idx.size, 'volunteer')} with the skills and DBS level, but none travels this far; the nearest, "
            f"{nv.id}, is {km[j]:.2f} km away and travels up to {nv.max_km:g} km."
        )
    if p.is_excluded(np.full(in_range.size, r, dtype=np.int64), in_range).all():
        names = ", ".join(p.volunteers[int(v)].id for v in in_range[:10]) + (" ..." if in_range.size > 10 else "")
        return "all_excluded", f"Every volunteer who could do it ({names}) is excluded for this request."
    return "capacity_taken", (
        "Suitable volunteers are in range, but all of them are fully booked with requests at "
        "least as urgent as this one."
    )
