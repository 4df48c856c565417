"""Plain data types of the matching engine: frozen dataclasses in, frozen dataclasses out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

#: DBS check levels, weakest first; the position in this tuple is the order used for "at least".
DBS_LEVELS: tuple[str, ...] = ("none", "basic", "standard", "enhanced")

#: Why a request was left unmatched, in the order the filters are applied.
UnmatchedReason = Literal[
    "no_volunteer_with_skills", "dbs_level", "none_within_distance", "all_excluded", "capacity_taken"
]


def dbs_rank(level: str) -> int:
    """Return the rank of a DBS level (0 = none ... 3 = enhanced); raise ValueError if unknown."""
    try:
        return DBS_LEVELS.index(level)
    except ValueError:
        raise ValueError(f"unknown DBS level {level!r}; expected one of {', '.join(DBS_LEVELS)}") from None


@dataclass(frozen=True, slots=True)
class Request:
    """A request for help: where, how urgent (1 routine, 2 soon, 3 urgent), and what it needs."""

    id: str
    lat: float
    lon: float
    urgency: int
    skills: frozenset[str] = frozenset()
    min_dbs: str = "none"
    excluded: frozenset[str] = frozenset()
    preferred: str | None = None


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A volunteer available in this run, with how far they travel and how many requests they take."""

    id: str
    lat: float
    lon: float
    skills: frozenset[str] = frozenset()
    dbs: str = "none"
    max_km: float = 5.0
    capacity: int = 1


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """Tuning knobs; the defaults give a proven optimum at every size.

    ``method`` is ``"auto"`` (full graph when it is small, pricing otherwise), ``"full"`` (every
    feasible pair in one OR-Tools min-cost flow, kept as the reference) or ``"pricing"``
    (candidate pairs plus dual pricing, solved by warm-started shortest paths).
    ``candidates_per_request`` is how many nearest feasible volunteers seed the pricing method.
    ``full_graph_max_pairs`` is the estimated pair count under which ``auto`` uses the full graph.
    ``lookahead_m``: each pricing round also adds pairs within this many metres of violating,
    which saves the long tail of rounds that each add a handful of pairs (0 turns it off).
    ``time_limit_s``: stop pricing after this many seconds and return the best answer found,
    with ``optimal`` False and a :class:`Bound` (``None``: run until proven). The full-graph
    method cannot be interrupted and ignores it. ``progress`` is called with each answer's
    summary as it is found (seconds, served by urgency, km), so long runs are never silent.
    """

    method: Literal["auto", "full", "pricing"] = "auto"
    candidates_per_request: int = 8
    full_graph_max_pairs: int = 2_000_000
    max_rounds: int = 200
    lookahead_m: int = 300
    explain: bool = True
    time_limit_s: float | None = None
    progress: Callable[[dict[str, object]], None] | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """A proposed pairing, with the reasoning a coordinator sees."""

    request: str
    volunteer: str
    km: float
    explanation: str
    skills_matched: tuple[str, ...] = ()
    preferred_kept: bool = False
    nearest_volunteer: str | None = None
    nearest_km: float | None = None


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A request the run could not serve, with the first reason that applies and a plain-words detail."""

    request: str
    reason: UnmatchedReason
    detail: str


@dataclass(frozen=True, slots=True)
class Bound:
    """What the best possible answer could reach, proven: shown beside an answer not proven optimal.

    ``served_by_urgency[u]``: no answer serves more requests of urgency ``u``.
    ``km_lower_bound``: no answer serving at least as many requests of each urgency as the
    returned one travels fewer km (each request counts at least its nearest suitable volunteer).
    """

    served_by_urgency: dict[int, int]
    km_lower_bound: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The answer of :func:`matching.solve`; ``optimal`` is True only when optimality is proven."""

    assignments: tuple[Assignment, ...]
    unmatched: tuple[Unmatched, ...]
    served_by_urgency: dict[int, int]
    total_km: float
    optimal: bool
    stats: dict[str, object] = field(default_factory=dict)
    bound: Bound | None = None
    distance_unit_m: int = 1
