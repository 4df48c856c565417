"""Index-space view of an instance: sorted, grouped by skill/DBS signature, with the cost scheme.

Cost scheme (all integers, because min-cost flow is exact only on integers):

* ``q`` = pair distance rounded to ``unit_m`` metres (1 m unless the numbers would overflow).
* pair cost ``c = T * q - bonus`` where ``bonus`` is 1 for the request's preferred volunteer and
  ``T = p + 1`` with ``p`` the number of requests whose preferred volunteer is a feasible partner
  (skills, DBS, range, not excluded). A bonus is only ever earned on such a pair, so the bonuses
  of a whole answer add up to at most ``p < T``, i.e. less than one distance unit, and continuity
  only breaks ties between answers of equal (rounded) total distance. Counting only feasible
  preferred pairs keeps ``T`` (and every cost) small: OR-Tools' cost scaling runs fewer phases.
* not serving a request of urgency ``u`` costs ``P_u = u * K`` with ``K = B * C + 1``, where ``C``
  bounds any pair cost and ``B`` bounds how many requests can be served. Any change to who is
  served decomposes into augmenting paths whose distance change is at most ``B * C < K``, so
  serving one more request of urgency ``u`` (or swapping a request for a more urgent one) always
  beats any saving in distance: the served counts are lexicographically optimal whatever the
  rounding, and the weights are linear in urgency rather than exponential.
* OR-Tools multiplies costs by (nodes + 1) internally; ``unit_m`` grows by tenfold steps until
  ``P_3 * (nodes + 1)`` fits in int64, and the unit is reported in the stats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from matching.geometry import EARTH_RADIUS_KM, FloatArray, haversine_km_arrays, unit_vectors
from matching.model import Request, Volunteer, dbs_rank

IntArray = npt.NDArray[np.int64]
INT64_MAX = np.iinfo(np.int64).max


class CostOverflowError(ValueError):
    """Raised when no distance unit keeps the integer costs inside int64."""


@dataclass
class SignatureGroup:
    """Requests sharing one (skills, minimum DBS) signature and the volunteers able to serve them.

    One KD-tree per request signature keeps every spatial query free of skill filtering; the
    number of signatures is small in practice (requests rarely need more than two skills).
    """

    skills: frozenset[str]
    dbs: int
    requests: IntArray
    members: IntArray
    tree: cKDTree
    max_km: float


@dataclass
class Problem:
    """Arrays over requests and volunteers sorted by id, plus grouping and the integer cost scheme."""

    requests: list[Request]
    volunteers: list[Volunteer]
    req_lat: FloatArray
    req_lon: FloatArray
    req_xyz: FloatArray
    req_urgency: IntArray
    req_sig: IntArray
    req_pref: IntArray
    vol_lat: FloatArray
    vol_lon: FloatArray
    vol_xyz: FloatArray
    vol_max_km: FloatArray
    vol_cap: IntArray
    vol_dbs: IntArray
    groups: list[SignatureGroup]
    excluded_keys: IntArray
    unit_m: int
    tie_scale: int
    penalty_unit: int

    @property
    def n(self) -> int:
        return len(self.requests)

    @property
    def m(self) -> int:
        return len(self.volunteers)

    def penalty(self, r: IntArray) -> IntArray:
        """Cost of leaving requests ``r`` unserved."""
        out: IntArray = self.req_urgency[r] * self.penalty_unit
        return out

    def pair_cost(self, r: IntArray, v: IntArray, km: FloatArray) -> IntArray:
        """Integer cost of the pairs (r, v) at great-circle distance ``km``."""
        out: IntArray = self._distance_cost(km) - (self.req_pref[r] == v).astype(np.int64)
        return out

    def lowest_cost(self, km: FloatArray) -> IntArray:
        """The least any pair at ``km`` can cost: a preferred pair's (its bonus is 1)."""
        out: IntArray = self._distance_cost(km) - 1
        return out

    def _distance_cost(self, km: FloatArray) -> IntArray:
        out: IntArray = np.rint(km * (1000.0 / self.unit_m)).astype(np.int64) * self.tie_scale
        return out

    def is_excluded(self, r: IntArray, v: IntArray) -> npt.NDArray[np.bool_]:
        """True where the request excludes the volunteer."""
        if self.excluded_keys.size == 0:
            return np.zeros(r.shape, dtype=np.bool_)
        keys = r.astype(np.int64) * self.m + v
        pos = np.searchsorted(self.excluded_keys, keys)
        pos = np.minimum(pos, self.excluded_keys.size - 1)
        out: npt.NDArray[np.bool_] = self.excluded_keys[pos] == keys
        return out


def build_problem(requests: list[Request], volunteers: list[Volunteer]) -> Problem:
    """Sort by id (so the answer never depends on input order), group and choose the cost scheme."""
    reqs = sorted(requests, key=lambda r: r.id)
    vols = sorted(volunteers, key=lambda v: v.id)
    vol_index = {v.id: i for i, v in enumerate(vols)}
    n, m = len(reqs), len(vols)

    req_lat = np.radians(np.fromiter((r.lat for r in reqs), dtype=np.float64, count=n))
    req_lon = np.radians(np.fromiter((r.lon for r in reqs), dtype=np.float64, count=n))
    vol_lat = np.radians(np.fromiter((v.lat for v in vols), dtype=np.float64, count=m))
    vol_lon = np.radians(np.fromiter((v.lon for v in vols), dtype=np.float64, count=m))

    sig_index: dict[tuple[frozenset[str], int], int] = {}
    req_sig = np.array(
        [sig_index.setdefault((r.skills, dbs_rank(r.min_dbs)), len(sig_index)) for r in reqs], dtype=np.int64
    )
    vol_xyz = unit_vectors(vol_lat, vol_lon) if m else np.zeros((0, 3))
    vol_max_km = np.array([v.max_km for v in vols], dtype=np.float64)
    vol_dbs = np.array([dbs_rank(v.dbs) for v in vols], dtype=np.int64)
    needed = sorted(frozenset[str]().union(*(sk for sk, _ in sig_index)))
    has = np.array([[x in v.skills for x in needed] for v in vols], dtype=np.bool_).reshape(m, len(needed))
    col = {x: i for i, x in enumerate(needed)}
    groups = []
    for (skills, dbs), s in sig_index.items():
        ok = vol_dbs >= dbs
        for x in skills:
            ok &= has[:, col[x]]
        members = np.flatnonzero(ok).astype(np.int64)
        groups.append(
            SignatureGroup(
                skills,
                dbs,
                np.flatnonzero(req_sig == s).astype(np.int64),
                members,
                cKDTree(vol_xyz[members] if members.size else np.zeros((0, 3))),
                float(vol_max_km[members].max()) if members.size else 0.0,
            )
        )

    req_pref = np.array(
        [vol_index.get(r.preferred, -1) if r.preferred is not None else -1 for r in reqs], dtype=np.int64
    )
    excl = [i * m + vol_index[x] for i, r in enumerate(reqs) for x in r.excluded if x in vol_index]
    excluded_keys = np.unique(np.array(excl, dtype=np.int64))

    # Bounds for the weight scheme (see module docstring).
    tie_scale = int(_feasible_preferred(reqs, req_pref, vol_lat, vol_lon, vol_max_km, vol_dbs, vols).sum()) + 1
    max_km = min(float(vol_max_km.max()) if m else 0.0, math.pi * EARTH_RADIUS_KM)
    served_bound = max(1, min(n, int(sum(v.capacity for v in vols))))
    nodes = n + m + 2
    unit_m = 1
    while True:
        c_max = (int(max_km * 1000 / unit_m) + 1) * tie_scale + 1
        k = served_bound * c_max + 1
        if 3 * k < INT64_MAX // (nodes + 1):
            break
        unit_m *= 10
        if unit_m > 10**8:
            raise CostOverflowError("instance too large for exact integer costs")
    return Problem(
        requests=reqs,
        volunteers=vols,
        req_lat=req_lat,
        req_lon=req_lon,
        req_xyz=unit_vectors(req_lat, req_lon) if n else np.zeros((0, 3)),
        req_urgency=np.array([r.urgency for r in reqs], dtype=np.int64),
        req_sig=req_sig,
        req_pref=req_pref,
        vol_lat=vol_lat,
        vol_lon=vol_lon,
        vol_xyz=vol_xyz,
        vol_max_km=vol_max_km,
        vol_cap=np.array([v.capacity for v in vols], dtype=np.int64),
        vol_dbs=vol_dbs,
        groups=groups,
        excluded_keys=excluded_keys,
        unit_m=unit_m,
        tie_scale=tie_scale,
        penalty_unit=k,
    )


def _feasible_preferred(
    reqs: list[Request],
    req_pref: IntArray,
    vol_lat: FloatArray,
    vol_lon: FloatArray,
    vol_max_km: FloatArray,
    vol_dbs: IntArray,
    vols: list[Volunteer],
) -> npt.NDArray[np.bool_]:
    """True for each request whose preferred volunteer could serve it (the only pairs earning a bonus)."""
    r = np.flatnonzero(req_pref >= 0)
    out = np.zeros(len(reqs), dtype=np.bool_)
    if r.size == 0:
        return out
    v = req_pref[r]
    rlat = np.radians(np.array([reqs[i].lat for i in r.tolist()], dtype=np.float64))
    rlon = np.radians(np.array([reqs[i].lon for i in r.tolist()], dtype=np.float64))
    ok = haversine_km_arrays(rlat, rlon, vol_lat[v], vol_lon[v]) <= vol_max_km[v]
    for k, (i, j) in enumerate(zip(r.tolist(), v.tolist(), strict=True)):
        req, vol = reqs[i], vols[j]
        ok[k] &= req.skills <= vol.skills and int(vol_dbs[j]) >= dbs_rank(req.min_dbs) and vol.id not in req.excluded
    out[r] = ok
    return out
