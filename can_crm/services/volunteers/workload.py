"""How much more work a volunteer can be given: the tasks they hold at once (`capacity`), and, when they set one,
the most tasks they take in a day (`max_per_day`).

A day's tasks are those accepted today (the structured history's `accepted` transitions naming the volunteer,
whatever has become of them since) plus the offers still waiting for their answer, which would be accepted
today. Days are the council's (`times`): the count starts again at its midnight.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Label, Row, Select, bindparam, func, literal_column, select

from can_crm.models.enums import BUSY_STATUSES, Status
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import times
from can_crm.services.common.sql import fixed, fixed_in, read


class Limited(Protocol):
    """What a volunteer's limits are read from: the Volunteer, or a plain row with these three columns."""

    @property
    def id(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def max_per_day(self) -> int | None: ...


class Limit(StrEnum):
    AT_ONCE = "at_once"  # they hold as many as they said they can at once
    TODAY = "today"  # they took (or were offered) as many today as they said they take in a day


@dataclass(frozen=True)
class Load:
    held: int = 0  # requests they hold now (matched, accepted, in progress)
    offered: int = 0  # of which offers waiting for their answer (matched)
    accepted_today: int = 0  # requests they accepted today, whatever their status now

    def room(self, volunteer: Limited) -> int:
        """How many more tasks may be offered to them now (0 when full)."""
        room = volunteer.capacity - self.held
        if volunteer.max_per_day is not None:
            room = min(room, volunteer.max_per_day - self.accepted_today - self.offered)
        return max(room, 0)

    def limit_reached(self, volunteer: Limited) -> Limit | None:
        """Which of their limits leaves no room now; None while there is room."""
        if self.held >= volunteer.capacity:
            return Limit.AT_ONCE
        return Limit.TODAY if self.room(volunteer) == 0 else None

    def full_reason(self, volunteer: Limited) -> str | None:
        """Why nothing more may be offered to them, in words for a coordinator; None while there is room."""
        limit = self.limit_reached(volunteer)
        if limit == Limit.AT_ONCE:
            return f"volunteer #{volunteer.id} has no spare capacity ({volunteer.capacity} at once)"
        if limit == Limit.TODAY:
            return (
                f"volunteer #{volunteer.id} has taken as many tasks today as they said ({volunteer.max_per_day} a day)"
            )
        return None

    def plus_offer(self) -> Load:
        """The load once one more request is offered to them."""
        return Load(self.held + 1, self.offered + 1, self.accepted_today)


def loads(volunteers: Collection[Limited] | None = None) -> dict[int, Load]:
    """Each volunteer's load (every volunteer with any when `volunteers` is None); one absent has none."""
    ids = None if volunteers is None else [v.id for v in volunteers]
    if ids == []:
        return {}
    values: dict[str, Any] = {} if ids is None else {"ids": ids}
    counts: dict[int, dict[str, int]] = {}
    for vid, status, n in read(_held_statement(ids is not None), values):
        counts.setdefault(int(vid), {})[status] = int(n)
    if volunteers is None or any(v.max_per_day is not None for v in volunteers):
        values["since"] = times.day_start(times.today())
        for vid, n in read(_accepted_statement(ids is not None), values):
            counts.setdefault(int(vid), {})["accepted_today"] = int(n)
    return {
        vid: Load(
            held=sum(n for s, n in c.items() if s in BUSY_STATUSES),
            offered=c.get(Status.MATCHED.value, 0),
            accepted_today=c.get("accepted_today", 0),
        )
        for vid, c in counts.items()
    }


# The two statements are built once per process, of the volunteers `ids` when `chosen` (every volunteer otherwise),
# since the council's midnight `since`: Nearby reads one volunteer's load on every page, and building them afresh
# took twice as long as running them, profiled.


@functools.cache
def _held_statement(chosen: bool) -> Select[Any]:
    """Requests each volunteer holds now, by status."""
    held = select(HelpRequest.volunteer_id, HelpRequest.status, func.count()).where(
        HelpRequest.volunteer_id.is_not(None), _holding()
    )
    if chosen:
        held = held.where(HelpRequest.volunteer_id.in_(bindparam("ids", expanding=True)))
    return held.group_by(HelpRequest.volunteer_id, HelpRequest.status)


@functools.cache
def _accepted_statement(chosen: bool) -> Select[Any]:
    """Requests each volunteer with a most-a-day accepted today (the index on (volunteer_id, created_at) serves it)."""
    daily_ids = select(Volunteer.id).where(Volunteer.max_per_day.is_not(None))
    accepted = select(RequestEvent.volunteer_id, _accepted_count()).where(
        *_accepted_since(), RequestEvent.volunteer_id.in_(daily_ids)
    )
    if chosen:
        accepted = accepted.where(RequestEvent.volunteer_id.in_(bindparam("ids", expanding=True)))
    return accepted.group_by(RequestEvent.volunteer_id)


def _holding() -> ColumnElement[bool]:
    """Requests that hold their volunteer now (matched, accepted, in progress)."""
    return fixed_in(HelpRequest.status, BUSY_STATUSES)


def _accepted_since() -> tuple[ColumnElement[bool], ...]:
    """Acceptances since the council's midnight, the parameter `since`."""
    return (
        RequestEvent.to_status == fixed(Status.ACCEPTED.value),
        RequestEvent.created_at >= bindparam("since", type_=RequestEvent.created_at.type),
    )


def _accepted_count() -> ColumnElement[int]:
    """How many requests those acceptances took (a request accepted twice counts once)."""
    return func.count(RequestEvent.request_id.distinct())


@functools.cache
def load_columns(daily: bool) -> tuple[Label[Any], ...]:
    """One volunteer's load as three columns `held`, `offered` and `accepted_today` (`load_in` reads them back),
    for a statement that reads it beside its own rows in one round trip (Nearby). The volunteer is the parameter
    `volunteer_id`; when `daily` (they set a most-a-day), the council's midnight is `since`, else none are counted."""
    mine = HelpRequest.volunteer_id == bindparam("volunteer_id")
    held = select(func.count()).where(mine, _holding()).scalar_subquery()
    offered = select(func.count()).where(mine, HelpRequest.status == fixed(Status.MATCHED.value)).scalar_subquery()
    accepted: ColumnElement[Any] = literal_column("0")
    if daily:
        theirs = RequestEvent.volunteer_id == bindparam("volunteer_id")
        accepted = select(_accepted_count()).where(theirs, *_accepted_since()).scalar_subquery()
    return held.label("held"), offered.label("offered"), accepted.label("accepted_today")


def load_values(volunteer: Limited, today: date) -> dict[str, Any]:
    """The parameters of `load_columns(volunteer.max_per_day is not None)` for this volunteer on the council's
    `today`."""
    values: dict[str, Any] = {"volunteer_id": volunteer.id}
    if volunteer.max_per_day is not None:
        values["since"] = times.day_start(today)
    return values


def load_in(row: Row[Any]) -> Load:
    """The load read by `load_columns`."""
    return Load(held=int(row.held), offered=int(row.offered), accepted_today=int(row.accepted_today))


def load_of(volunteer: Volunteer) -> Load:
    return loads([volunteer]).get(volunteer.id, Load())
