"""Nearby: unassigned triaged requests of the types a coordinator opened for self-service, nearest first,
claimed in one tap. Concurrent claims: the row is locked with SKIP LOCKED, so exactly one claimer wins and the
others are told at once (no waiting, no double assignment).

Each request carries a copy of its resident's place (services/residents/request_location), so the pool is searched
without reading residents. On PostgreSQL a GiST index over the pool's places, ix_requests_pool_place (migration
0023: PostgreSQL's point, a degree east weighed by PLACE_SCALE as for the volunteers' place index; it carries the
type, id and coordinates), is walked nearest first within a box around the volunteer's reach, and the walk stops
after the few rows shown: measured on the 100,000-request benchmark database, 0.18 ms a statement against 0.64 ms
for reaching the pool by the volunteer's 217 H3 cells and sorting every request found there. SQLite has no such
index and keeps the cells (ix_requests_pool_cell). Either way only the rows shown are joined to their residents.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import h3
from sqlalchemy import ColumnElement, Float, Row, Select, bindparam, delete, func, literal_column, select, true

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import RequestType, Status, values
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import SelfServiceType, Volunteer
from can_crm.services.common import times
from can_crm.services.common.errors import Conflict, FieldErrors, Forbidden
from can_crm.services.common.sql import (
    fixed,
    flat_distance,
    on_postgresql,
    one_of_parameter,
    one_of_value,
    read,
)
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import SYSTEM, Actor
from can_crm.services.volunteers import workload
from can_crm.services.volunteers.offers import OFFER_COLUMNS, OfferView, view
from can_crm.services.volunteers.profiles import PLACE_SCALE, distance_km
from can_crm.services.volunteers.vetting import effective_dbs_level
from can_crm.unit_of_work import atomic

LIMIT = 20
# Centre-to-centre spacing of H3 resolution-8 cells (the residents' h3_map), in km (edge 0.46 km x sqrt 3).
MAP_CELL_SPACING_KM = 0.8
MAX_RING = 15
# The fewest km a degree of latitude spans (at the equator; the Earth is flatter at the poles): the box around a
# volunteer's reach and the nearest a request not read yet can be are worked out with it, so neither is too small.
KM_PER_DEGREE = 110.57
_DBS_RANK = {"none": 0, "basic": 1, "standard": 2, "enhanced": 3}


def open_types() -> list[str]:
    return list(db.session.scalars(select(SelfServiceType.type).order_by(SelfServiceType.type)))


@atomic
def set_open_types(types: object, coordinator_id: int | None) -> list[str]:
    """Replace the request types open for self-service (coordinators)."""
    items = [types] if isinstance(types, str) else (types or [])
    if not isinstance(items, list) or any(t not in values(RequestType) for t in items):
        raise FieldErrors({"types": "Choose request types from the list"})
    db.session.execute(delete(SelfServiceType))
    for kind in sorted(set(items)):
        db.session.add(SelfServiceType(type=kind, opened_by_id=coordinator_id, opened_at=utcnow()))
    db.session.flush()
    return sorted(set(items))


def search_cells(volunteer: Volunteer) -> list[str]:
    """The H3 map cells within the volunteer's travel distance of home (a hexagonal disk; a little generous)."""
    return list(_disk(volunteer.h3_map, _rings(volunteer))) if volunteer.h3_map else []


def _rings(volunteer: Volunteer) -> int:
    return min(MAX_RING, math.ceil(volunteer.max_km / MAP_CELL_SPACING_KM) + 1)


# A volunteer's home and range change rarely and Nearby is read often: each disk is worked out once per process,
# and so is the parameter that carries it.
@functools.lru_cache(maxsize=4096)
def _disk(cell: str, k: int) -> tuple[str, ...]:
    return tuple(sorted(h3.grid_disk(cell, k)))


@functools.lru_cache(maxsize=4096)
def _disk_value(cell: str | None, k: int, postgresql: bool) -> str | list[str]:
    """The disk as Nearby's `cells` parameter (`one_of_value`); no cells for a volunteer without one."""
    return one_of_value(_disk(cell, k) if cell else (), postgresql)


@functools.cache
def _statement(postgresql: bool, typed: bool, limit: int) -> Select[Any]:
    """The SELECT behind Nearby, built once per process for each shape: where the volunteer is and the area searched
    (`_parameters`) and, when `typed`, the `types` are parameters of each execution. (Building it afresh each time
    was a fifth of the page's Python, profiled.)

    The nearest `limit` pool requests are chosen from requests alone, by their `place_distance` from the volunteer:
    on PostgreSQL inside the box around their reach, walking ix_requests_pool_place nearest first; on SQLite in their
    H3 cells. Only those are joined to their residents (for the postcode). Without `types`, the types open for
    self-service are read in the same statement (one round trip)."""
    distance: ColumnElement[Any]
    area: ColumnElement[bool]
    if postgresql:
        place = func.point(HelpRequest.lon * literal_column(repr(PLACE_SCALE)), HelpRequest.lat)
        distance = place.op("<->", return_type=Float)(func.point(_number("x"), _number("y")))
        box = func.box(func.point(_number("x0"), _number("y0")), func.point(_number("x1"), _number("y1")))
        area = place.op("<@", is_comparison=True)(box)
    else:
        distance = flat_distance(
            HelpRequest.lat, HelpRequest.lon, _number("y"), _number("lon"), literal_column(repr(PLACE_SCALE))
        )
        area = one_of_parameter(HelpRequest.h3_map, "cells", postgresql)
    nearest = (
        select(HelpRequest.id, distance.label("distance"))
        .where(
            HelpRequest.status == fixed(Status.TRIAGED.value),
            HelpRequest.volunteer_id.is_(None),
            HelpRequest.lat.is_not(None),
            HelpRequest.lon.is_not(None),
            HelpRequest.type.in_(bindparam("types", expanding=True) if typed else select(SelfServiceType.type)),
            area,
        )
        .order_by(distance)
        .limit(limit)
        .subquery("nearest")
    )
    return (
        select(*OFFER_COLUMNS, HelpRequest.lat, HelpRequest.lon, nearest.c.distance)
        .join(nearest, nearest.c.id == HelpRequest.id)
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .order_by(nearest.c.distance, HelpRequest.reference)
    )


@functools.cache
def _page_statement(postgresql: bool, limit: int, daily: bool) -> Select[Any]:
    """Nearby's page: the volunteer's load (workload.load_columns) beside `_statement`'s rows, in one statement and
    one round trip instead of two (a row with the load alone when no request is near)."""
    load = select(*workload.load_columns(daily)).subquery("load")
    shown = _statement(postgresql, False, limit).order_by(None).subquery("shown")
    return select(load, shown).select_from(load.outerjoin(shown, true())).order_by(shown.c.distance, shown.c.reference)


def _number(name: str) -> Any:
    return bindparam(name, type_=Float)


def _parameters(volunteer: Volunteer, types: list[str] | None, postgresql: bool) -> dict[str, Any]:
    lat, lon = float(volunteer.lat or 0), float(volunteer.lon or 0)
    values: dict[str, Any] = {"y": lat}
    if postgresql:
        # A box holding every place within the volunteer's reach, in the index's units (with 1% to spare).
        north, cosine = _reach(volunteer)
        north *= 1.01
        east = north * PLACE_SCALE / cosine
        x = lon * PLACE_SCALE
        values.update(x=x, x0=x - east, x1=x + east, y0=lat - north, y1=lat + north)
    else:
        values.update(lon=lon, cells=_disk_value(volunteer.h3_map, _rings(volunteer), postgresql))
    if types is not None:
        values["types"] = types
    return values


def _reach(volunteer: Volunteer) -> tuple[float, float]:
    """The degrees of latitude the volunteer's reach spans, at most, and the cosine of its most poleward latitude
    (where a degree east is shortest)."""
    north = volunteer.max_km / KM_PER_DEGREE
    return north, math.cos(math.radians(min(89.0, abs(float(volunteer.lat or 0)) + north)))


def place_distance(volunteer: Volunteer, lat: float, lon: float) -> float:
    """What Nearby's statement orders by: a flat distance in degrees of latitude, a degree east weighed by
    PLACE_SCALE (the place index's metric)."""
    north, east = lat - float(volunteer.lat or 0), (lon - float(volunteer.lon or 0)) * PLACE_SCALE
    return math.hypot(north, east)


def _closest_unread_km(volunteer: Volunteer, last: Row[Any]) -> float:
    """How near any request the statement did not return can be, when its last row was `last`: no nearer by the
    statement's order, so at least this many km on the ground (a degree east is worth more than PLACE_SCALE of a
    degree north south of about 53 degrees, less north of it: the reach's most northerly latitude counts)."""
    east = min(1.0, _reach(volunteer)[1] / PLACE_SCALE)
    return place_distance(volunteer, last.lat, last.lon) * KM_PER_DEGREE * east * 0.999


def nearby_query(volunteer: Volunteer, types: list[str] | None = None, limit: int = LIMIT) -> Select[Any]:
    """Nearby's SELECT with this volunteer's values bound (the benchmark and a test EXPLAIN it); without `types`,
    the types open for self-service."""
    postgresql = on_postgresql()
    return _statement(postgresql, types is not None, limit).params(_parameters(volunteer, types, postgresql))


def _skills(volunteer: Volunteer) -> set[str]:
    return set(volunteer.skills or ()) | {"dbs_checked"}


def _eligible(skills: set[str], row: Row[Any] | HelpRequest, today_dbs: str) -> bool:
    """A volunteer with these `_skills` and DBS level today may take the request (a row of OFFER_COLUMNS, or it)."""
    return _DBS_RANK.get(today_dbs, 0) >= _DBS_RANK.get(row.min_dbs, 0) and set(row.required_skills or ()) <= skills


def first_read(limit: int = LIMIT) -> int:
    """How many of the nearest pool requests Nearby reads first to show `limit` (the benchmark EXPLAINs that)."""
    return limit + limit // 4


def list_nearby(volunteer: Volunteer, limit: int = LIMIT) -> list[OfferView]:
    """The nearest `limit` pool requests this volunteer may take, nearest first (by the distance shown).

    The statement orders by `place_distance`, which is close to the distance shown but not the same, so the rows
    read are put in order of distance on the ground, and only those nearer than any row not read can be shown
    (`_closest_unread_km`). Whether they may take one (skills, DBS level) is checked here, on the nearest rows, a
    quarter more than are shown (most requests need no skill or check); where too few of those pass, more are read
    (four times as many each time) until `limit` pass or the pool within the volunteer's reach runs out, so a
    volunteer is never shown less than there is near them."""
    return _nearest(volunteer, limit, with_load=False)[1]


def shown(volunteer: Volunteer, limit: int = LIMIT) -> tuple[str | None, list[OfferView]]:
    """What the Nearby page shows: why the volunteer's own limits (at once, or today) let them take nothing more
    now, and then no request, or else None and `list_nearby`. Their load is read in the statement that reads the
    first rows."""
    load, offers = _nearest(volunteer, limit, with_load=True)
    assert load is not None  # asked for
    full = _why(volunteer, load)
    return full, ([] if full else offers)


def _nearest(volunteer: Volunteer, limit: int, *, with_load: bool) -> tuple[workload.Load | None, list[OfferView]]:
    """`list_nearby`, and the volunteer's load when `with_load` (None otherwise); no request once the load leaves
    them no room."""
    today = times.today()
    if limit < 1 or not volunteer.is_available(today) or volunteer.lat is None or volunteer.lon is None:
        return (workload.load_of(volunteer) if with_load else None), []
    dbs = effective_dbs_level(volunteer, today)
    skills = _skills(volunteer)
    postgresql = on_postgresql()
    parameters = _parameters(volunteer, None, postgresql)
    wanted = first_read(limit)
    load = None
    if with_load:
        parameters.update(workload.load_values(volunteer, today))
        rows = read(_page_statement(postgresql, wanted, volunteer.max_per_day is not None), parameters).all()
        load = workload.load_in(rows[0])
        if load.limit_reached(volunteer):
            return load, []
        rows = [row for row in rows if row.reference is not None]
    else:
        rows = read(_statement(postgresql, False, wanted), parameters).all()
    while True:
        every = len(rows) < wanted  # every pool request in the area searched was read
        sure = math.inf if every else _closest_unread_km(volunteer, rows[-1])
        ranked = sorted(
            (distance_km(volunteer.lat, volunteer.lon, row.lat, row.lon), row.reference, row) for row in rows
        )
        out: list[OfferView] = []
        for km, _, row in ranked:
            if round(km, 1) > volunteer.max_km:  # further than they travel, as the list shows it: so is the rest
                return load, out
            if km >= sure:  # a request not read yet may be nearer (never when every one was read)
                break
            if _eligible(skills, row, dbs):
                out.append(view(row, row.postcode, round(km, 1)))
                if len(out) == limit:
                    return load, out
        if every:
            return load, out
        wanted *= 4
        rows = read(_statement(postgresql, False, wanted), parameters).all()


class Taken(Conflict):
    """Someone else claimed it first."""

    def __init__(self, message: str, next_reference: str | None) -> None:
        super().__init__(message)
        self.next_reference = next_reference


_FULL = {
    workload.Limit.AT_ONCE: "You have as many tasks as you said you can take at once: finish one first",
    workload.Limit.TODAY: "You have taken as many tasks today as you said you can: thank you, and see you tomorrow",
}


def why_full(volunteer: Volunteer) -> str | None:
    """Why the volunteer's own limits let them take nothing more now, in words for them; None while they can."""
    return _why(volunteer, workload.load_of(volunteer))


def _why(volunteer: Volunteer, load: workload.Load) -> str | None:
    limit = load.limit_reached(volunteer)
    return _FULL[limit] if limit else None


@atomic
def claim(volunteer: Volunteer, reference: str, actor: Actor) -> HelpRequest:
    """Take a nearby request: it becomes matched with this volunteer, then accepted, through the state machine.

    The row is locked FOR UPDATE SKIP LOCKED: a claimer who finds it locked or already taken is refused at once.
    """
    today = times.today()
    if not volunteer.is_available(today):
        raise Forbidden("Only vetted volunteers who are available today can claim requests")
    full = why_full(volunteer)
    if full is not None:
        raise Conflict(full)
    types = open_types()
    request = db.session.scalar(
        select(HelpRequest)
        .where(
            HelpRequest.reference == reference,
            HelpRequest.status == Status.TRIAGED.value,
            HelpRequest.volunteer_id.is_(None),
            HelpRequest.type.in_(types),
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if request is None or not _eligible(_skills(volunteer), request, effective_dbs_level(volunteer, today)):
        following = next((o.reference for o in list_nearby(volunteer) if o.reference != reference), None)
        raise Taken("Sorry, someone else took that one just before you. Thank you for offering", following)
    request.volunteer_id = volunteer.id
    # The offer is made by self-service (the type a coordinator opened), on the volunteer's tap; then they accept.
    lifecycle.transition(
        request, Status.MATCHED.value, Actor(role=SYSTEM, user_id=actor.user_id), "Claimed from Nearby"
    )
    lifecycle.transition(request, Status.ACCEPTED.value, actor)
    return request
