"""The proven bound shown beside an answer that is not (yet) proven optimal.

Both halves are cheap and valid whatever state the solver stopped in:

* served: a request can only be served if some volunteer with its skills and DBS level lies
  within the longest range of that group; at most that many of each urgency, and never more
  than the places volunteers offer in total.
* km: each served request travels at least the distance to its nearest volunteer of the right
  skills and DBS level (ranges and exclusions ignored, so it is a lower bound); an answer that
  serves ``s_u`` requests of urgency ``u`` travels at least the ``s_u`` smallest of those.
"""

from __future__ import annotations

import numpy as np

from matching.geometry import chord_for_km, km_for_chord
from matching.model import Bound
from matching.problem import IntArray, Problem


def nearest_group_km(p: Problem) -> np.ndarray:  # type: ignore[type-arg]
    """Per request, km to the nearest volunteer with its skills and DBS level (inf if none in range)."""
    out = np.full(p.n, np.inf)
    for grp in p.groups:
        if grp.members.size == 0 or grp.requests.size == 0:
            continue
        chord, _ = grp.tree.query(p.req_xyz[grp.requests], k=1, distance_upper_bound=float(chord_for_km(grp.max_km)))
        chord = np.asarray(chord, dtype=np.float64)
        finite = np.isfinite(chord)
        km = np.full(chord.shape, np.inf)
        km[finite] = km_for_chord(chord[finite]) * (1 - 1e-9)  # a hair shaved for rounding
        out[grp.requests] = km
    return out


def anytime_bound(p: Problem, vol_of: IntArray) -> Bound:
    """Bound for the answer ``vol_of`` (volunteer index per request, -1 unserved)."""
    near = nearest_group_km(p)
    places = int(np.minimum(p.vol_cap, p.n).sum())
    served_bound: dict[int, int] = {}
    km = 0.0
    for u in (3, 2, 1):
        mine = p.req_urgency == u
        served_bound[u] = min(int((mine & np.isfinite(near)).sum()), places)
        s = int(((vol_of >= 0) & mine).sum())
        if s:
            km += float(np.sort(near[mine])[:s].sum())
    # Rounded down to the metre so the printed bound never exceeds the printed total.
    return Bound(served_by_urgency=served_bound, km_lower_bound=float(np.floor(km * 1000) / 1000))
