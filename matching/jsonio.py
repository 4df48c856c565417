"""JSON instances in, JSON results out, with validation that names the offending item."""

from __future__ import annotations

import math
from typing import Any

from matching.model import DBS_LEVELS, Bound, MatchResult, Request, Volunteer


class InstanceError(ValueError):
    """The instance is not valid; the message names the item and field at fault."""


def _where(kind: str, i: int, item: Any) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    return f"{kind}[{i}]" + (f" (id {ident!r})" if isinstance(ident, str) else "")


def _field(item: dict[str, Any], key: str, where: str) -> Any:
    if key not in item:
        raise InstanceError(f"{where}: missing field '{key}'")
    return item[key]


def _number(item: dict[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    x = _field(item, key, where)
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not lo <= x <= hi:
        raise InstanceError(f"{where}: '{key}' must be a number between {lo:g} and {hi:g}, got {x!r}")
    return float(x)


def _int(item: dict[str, Any], key: str, where: str, allowed: str, ok: Any) -> int:
    x = _field(item, key, where)
    if isinstance(x, bool) or not isinstance(x, int) or not ok(x):
        raise InstanceError(f"{where}: '{key}' must be {allowed}, got {x!r}")
    return x


def _id(item: dict[str, Any], where: str) -> str:
    x = _field(item, "id", where)
    if not isinstance(x, str) or not x:
        raise InstanceError(f"{where}: 'id' must be a non-empty string, got {x!r}")
    return x


def _strings(item: dict[str, Any], key: str, where: str, default: list[str] | None = None) -> frozenset[str]:
    x = item.get(key, default) if default is not None else _field(item, key, where)
    if not isinstance(x, list) or not all(isinstance(s, str) for s in x):
        raise InstanceError(f"{where}: '{key}' must be a list of strings, got {x!r}")
    return frozenset(x)


def _dbs(item: dict[str, Any], key: str, where: str) -> str:
    x = _field(item, key, where)
    if x not in DBS_LEVELS:
        raise InstanceError(f"{where}: '{key}' must be one of {', '.join(DBS_LEVELS)}, got {x!r}")
    return str(x)


# Fast paths: the same rules checked inline with no message built. Anything unusual (a wrong
# type, a value out of range, a duplicate) returns None and the item goes through the checks
# above, which raise the message naming it. At 150,000 items this halves the parse.


def _coord(x: Any, lim: float) -> bool:
    return (type(x) is float or type(x) is int) and -lim <= x <= lim


def _str_list(x: Any) -> bool:
    # Most lists are empty or short: no generator for those.
    if type(x) is not list:
        return False
    n = len(x)
    if n == 0:
        return True
    if n == 1:
        return type(x[0]) is str
    return all(type(s) is str for s in x)


def _request_fast(raw: Any, seen: set[str]) -> Request | None:
    if type(raw) is not dict:
        return None
    item: dict[str, Any] = raw
    lat: Any = item.get("lat")
    lon: Any = item.get("lon")
    rid, urg = item.get("id"), item.get("urgency")
    skills: Any = item.get("skills")
    excl: Any = item.get("excluded", [])
    dbs, pref = item.get("min_dbs"), item.get("preferred")
    if not (
        type(rid) is str
        and rid
        and rid not in seen
        and _coord(lat, 90)
        and _coord(lon, 180)
        and type(urg) is int
        and urg in (1, 2, 3)
        and _str_list(skills)
        and type(dbs) is str
        and dbs in DBS_LEVELS
        and _str_list(excl)
        and (pref is None or type(pref) is str)
    ):
        return None
    seen.add(rid)
    return Request(rid, float(lat), float(lon), urg, frozenset(skills), dbs, frozenset(excl), pref)


def _volunteer_fast(raw: Any, seen: set[str]) -> Volunteer | None:
    if type(raw) is not dict:
        return None
    item: dict[str, Any] = raw
    lat: Any = item.get("lat")
    lon: Any = item.get("lon")
    vid, dbs = item.get("id"), item.get("dbs")
    skills: Any = item.get("skills")
    max_km: Any = item.get("max_km")
    cap = item.get("capacity")
    if not (
        type(vid) is str
        and vid
        and vid not in seen
        and _coord(lat, 90)
        and _coord(lon, 180)
        and _str_list(skills)
        and type(dbs) is str
        and dbs in DBS_LEVELS
        and (type(max_km) is float or type(max_km) is int)
        and 0 <= max_km <= 40_000
        and type(cap) is int
        and cap >= 0
    ):
        return None
    seen.add(vid)
    return Volunteer(vid, float(lat), float(lon), frozenset(skills), dbs, float(max_km), cap)


def parse_instance(data: Any) -> tuple[list[Request], list[Volunteer]]:
    """Validate a decoded JSON instance; raise :class:`InstanceError` on the first problem found."""
    if not isinstance(data, dict):
        raise InstanceError("instance must be a JSON object with 'requests' and 'volunteers'")
    lists = {}
    for key in ("requests", "volunteers"):
        if not isinstance(data.get(key), list):
            raise InstanceError(f"instance: '{key}' must be a list")
        lists[key] = data[key]
    requests: list[Request] = []
    seen: set[str] = set()
    for i, item in enumerate(lists["requests"]):
        fast = _request_fast(item, seen)
        if fast is not None:
            requests.append(fast)
            continue
        where = _where("requests", i, item)
        if not isinstance(item, dict):
            raise InstanceError(f"{where}: must be an object")
        rid = _id(item, where)
        if rid in seen:
            raise InstanceError(f"{where}: duplicate request id")
        seen.add(rid)
        preferred = item.get("preferred")
        if preferred is not None and not isinstance(preferred, str):
            raise InstanceError(f"{where}: 'preferred' must be a volunteer id or null, got {preferred!r}")
        requests.append(
            Request(
                id=rid,
                lat=_number(item, "lat", where, -90, 90),
                lon=_number(item, "lon", where, -180, 180),
                urgency=_int(item, "urgency", where, "1, 2 or 3", lambda u: u in (1, 2, 3)),
                skills=_strings(item, "skills", where),
                min_dbs=_dbs(item, "min_dbs", where),
                excluded=_strings(item, "excluded", where, default=[]),
                preferred=preferred,
            )
        )
    volunteers: list[Volunteer] = []
    seen = set()
    for i, item in enumerate(lists["volunteers"]):
        quick = _volunteer_fast(item, seen)
        if quick is not None:
            volunteers.append(quick)
            continue
        where = _where("volunteers", i, item)
        if not isinstance(item, dict):
            raise InstanceError(f"{where}: must be an object")
        vid = _id(item, where)
        if vid in seen:
            raise InstanceError(f"{where}: duplicate volunteer id")
        seen.add(vid)
        volunteers.append(
            Volunteer(
                id=vid,
                lat=_number(item, "lat", where, -90, 90),
                lon=_number(item, "lon", where, -180, 180),
                skills=_strings(item, "skills", where),
                dbs=_dbs(item, "dbs", where),
                max_km=_number(item, "max_km", where, 0, 40_000),
                capacity=_int(item, "capacity", where, "a whole number, 0 or more", lambda c: c >= 0),
            )
        )
    return requests, volunteers


def result_to_json(result: MatchResult) -> dict[str, Any]:
    """The CLI's output document (stats history omitted unless asked for by the caller)."""
    return {
        "assignments": [
            {
                "request": a.request,
                "volunteer": a.volunteer,
                "km": a.km,
                "explanation": a.explanation,
                "preferred_kept": a.preferred_kept,
            }
            for a in result.assignments
        ],
        "unmatched": [{"request": u.request, "reason": u.reason, "detail": u.detail} for u in result.unmatched],
        "served_by_urgency": {str(k): v for k, v in result.served_by_urgency.items()},
        "total_km": result.total_km,
        "distance_unit_m": result.distance_unit_m,
        "optimal": result.optimal,
        **({"bound": bound_to_json(result.bound)} if result.bound is not None else {}),
        "stats": {k: v for k, v in result.stats.items() if k != "history"},
    }


def bound_to_json(bound: Bound) -> dict[str, Any]:
    """The proven bound: most requests of each urgency any answer could serve, least km for this many."""
    return {
        "served_by_urgency": {str(k): v for k, v in bound.served_by_urgency.items()},
        "km_lower_bound": bound.km_lower_bound,
    }
