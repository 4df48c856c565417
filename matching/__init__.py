"""CAN CRM matching engine: optimal, explainable volunteer-request matching (no Flask, no database).

Use :func:`solve` on :class:`Request` and :class:`Volunteer` values; see ``python -m matching --help``.
"""

from matching.model import (
    DBS_LEVELS,
    Assignment,
    MatchResult,
    Request,
    SolveOptions,
    Unmatched,
    UnmatchedReason,
    Volunteer,
)
from matching.solver import solve

__all__ = [
    "DBS_LEVELS",
    "Assignment",
    "MatchResult",
    "Request",
    "SolveOptions",
    "Unmatched",
    "UnmatchedReason",
    "Volunteer",
    "solve",
]
