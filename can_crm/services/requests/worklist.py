"""The request queue: typed filters from a query string, one page of requests, and the queue's data version."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, func, select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import OPEN_STATUSES, RequestType, Status, values
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.common.paging import Page
from can_crm.services.common.policy import restrict_requests
from can_crm.services.common.sql import read
from can_crm.services.common.validation import clean_text
from can_crm.services.requests.rules import clean_urgency
from geo.postcodes import postcode_district

_FLAG_VALUES = ("", "true", "false", "1", "0", "yes", "no", "y", "n")


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None
    type: str | None = None
    urgency: int | None = None
    ward: str | None = None
    overdue: bool = False
    search: str | None = None
    location_unknown: bool = False


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue page: what it shows and no more (none of the resident's other details)."""

    reference: str
    type: str
    urgency: int
    status: str
    sla_due_at: datetime
    overdue: bool  # open and past its deadline, when the page was read
    district: str  # the outward code of the resident's postcode ("W6"), never the full address
    located: bool
    volunteer_name: str | None


def clean_filters(args: Mapping[str, Any]) -> QueueFilters:
    """Turn query-string filters into a typed filter, refusing unknown values with a message."""
    errors: dict[str, str] = {}
    status = args.get("status") or None
    if status and status not in values(Status) and status not in ("open", "all"):
        errors["status"] = f"Unknown status '{status}'"
    rtype = args.get("type") or None
    if rtype and rtype not in values(RequestType):
        errors["type"] = f"Unknown request type '{rtype}'"
    urgency = None
    if args.get("urgency") not in (None, ""):
        try:
            urgency = clean_urgency(args.get("urgency"))
        except ValidationError as exc:
            errors["urgency"] = exc.message
    overdue_raw = str(args.get("overdue") or "").lower()
    if overdue_raw not in _FLAG_VALUES:
        errors["overdue"] = "Overdue must be true or false"
    unknown_raw = str(args.get("location_unknown") or "").lower()
    if unknown_raw not in _FLAG_VALUES:
        errors["location_unknown"] = "Location unknown must be true or false"
    search = ward = None
    try:
        search = clean_text(args.get("q"), "q", "search", max_length=100) or None
    except ValidationError as exc:
        errors["q"] = exc.message
    try:
        ward = clean_text(args.get("ward"), "ward", "ward code", max_length=12) or None
    except ValidationError as exc:
        errors["ward"] = exc.message
    if errors:
        raise FieldErrors(errors)
    yes = ("true", "1", "yes", "y")
    return QueueFilters(status, rtype, urgency, ward, overdue_raw in yes, search, unknown_raw in yes)


def _filtered(user: User, filters: QueueFilters) -> Select[tuple[HelpRequest]]:
    """The requests `user` may see that match `filters`; the filters' values are parameters (`_values`)."""
    return restrict_requests(_where(_shape(filters)), user)


# Which filters are set, and how the status is chosen: one statement per shape, built once per process (a
# coordinator filtering and paging the queue runs the same few shapes with new values).
_Shape = tuple[str, bool, bool, bool, bool, bool, bool]


def _shape(filters: QueueFilters) -> _Shape:
    if filters.status == "all":
        status = "all"
    elif filters.status == "open" or (filters.status is None and not filters.search):
        status = "open"
    else:
        status = "one" if filters.status else "all"
    return (
        status,
        bool(filters.type),
        bool(filters.urgency),
        filters.overdue,
        filters.location_unknown,
        bool(filters.ward),
        bool(filters.search),
    )


def _values(filters: QueueFilters, now: datetime) -> dict[str, Any]:
    """The parameters of a shape's statements (each statement reads the ones it has)."""
    return {
        "status": filters.status,
        "type": filters.type,
        "urgency": filters.urgency,
        "now": now,
        "ward": filters.ward,
        "like": f"%{filters.search}%" if filters.search else None,
    }


@functools.cache
def _where(shape: _Shape) -> Select[tuple[HelpRequest]]:
    status, by_type, by_urgency, overdue, location_unknown, by_ward, search = shape
    query = select(HelpRequest)
    if status == "open":
        query = query.where(HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
    elif status == "one":
        query = query.where(HelpRequest.status == bindparam("status"))
    if by_type:
        query = query.where(HelpRequest.type == bindparam("type"))
    if by_urgency:
        query = query.where(HelpRequest.urgency == bindparam("urgency"))
    if overdue:
        query = query.where(
            HelpRequest.sla_due_at < bindparam("now", type_=HelpRequest.sla_due_at.type),
            HelpRequest.status.in_([s.value for s in OPEN_STATUSES]),
        )
    if by_ward or search or location_unknown:
        query = query.join(Resident, HelpRequest.resident_id == Resident.id)
        if location_unknown:
            query = query.where(Resident.lat.is_(None))
        if by_ward:
            query = query.where(Resident.ward_code == bindparam("ward"))
        if search:
            like = bindparam("like", type_=String)
            query = query.where(
                HelpRequest.reference.ilike(like) | Resident.name.ilike(like) | Resident.postcode.ilike(like)
            )
    return query


# The queue's order: most urgent first, then the soonest deadline (ix_requests_queue_order, ix_requests_queue_open).
_ORDER = (HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)


def _count_statement(query: Select[tuple[HelpRequest]]) -> Select[tuple[int]]:
    return select(func.count()).select_from(query.order_by(None).subquery())


def _count(query: Select[tuple[HelpRequest]], values: Mapping[str, Any]) -> int:
    return read(_count_statement(query), values).scalar() or 0


def queue(user: User, filters: QueueFilters, page: int = 1, per_page: int = 50) -> Page[HelpRequest]:
    """One page of the queue as requests with their residents and volunteers (the API's list). Two queries."""
    page = max(1, page)
    query = _filtered(user, filters)
    values = _values(filters, utcnow())
    rows = db.session.scalars(
        query.options(joinedload(HelpRequest.resident), joinedload(HelpRequest.volunteer))
        .order_by(*_ORDER)
        .limit(per_page)
        .offset((page - 1) * per_page),
        values,
    ).unique()
    return Page(list(rows), _count(query, values), page, per_page)


def queue_rows(user: User, filters: QueueFilters, page: int = 1, per_page: int = 50) -> Page[QueueRow]:
    """One page of the queue as the page shows it: plain columns, no request, resident or volunteer objects built
    (50 of each took most of the page's time). The page's requests are chosen by id, then joined to their
    residents and volunteers. Two queries, whatever the size; for a coordinator (who sees every request) both are
    built once per process for each shape of filters."""
    page = max(1, page)
    now = utcnow()
    shape = _shape(filters)
    where = _where(shape)
    query = restrict_requests(where, user)
    rows_query, count_query = _page_statements(shape) if query is where else _build_page_statements(query)
    values = {**_values(filters, now), "limit": per_page, "offset": (page - 1) * per_page}
    items = [
        QueueRow(
            ref, kind, urgency, status, due, status in OPEN_STATUSES and due < now, postcode_district(code), at, name
        )
        for ref, kind, urgency, status, due, code, at, name in read(rows_query, values).tuples()
    ]
    return Page(items, read(count_query, values).scalar() or 0, page, per_page)


@functools.cache
def _page_statements(shape: _Shape) -> tuple[Select[Any], Select[tuple[int]]]:
    return _build_page_statements(_where(shape))


def _build_page_statements(query: Select[tuple[HelpRequest]]) -> tuple[Select[Any], Select[tuple[int]]]:
    """One page of `query`'s rows (`limit` and `offset` are parameters), and how many there are in all."""
    chosen = (
        query.with_only_columns(HelpRequest.id)
        .order_by(*_ORDER)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    ids = chosen.subquery("chosen")
    rows = (
        select(
            HelpRequest.reference,
            HelpRequest.type,
            HelpRequest.urgency,
            HelpRequest.status,
            HelpRequest.sla_due_at,
            Resident.postcode,
            Resident.lat.is_not(None),
            Volunteer.name,
        )
        .join(ids, ids.c.id == HelpRequest.id)
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .outerjoin(Volunteer, Volunteer.id == HelpRequest.volunteer_id)
        .order_by(*_ORDER)
    )
    return rows, _count_statement(query)


def queue_data_version() -> tuple[Any, ...]:
    """Changes whenever anything the queue shows changes: a request added or updated (every lifecycle step
    updates its row), or a resident's or volunteer's details edited. Four index lookups, one round trip."""
    return tuple(read(_version_statement()).one())


@functools.cache
def _version_statement() -> Select[Any]:
    """Built once per process: the queue reads it on every view, served from the page cache or not."""
    return select(
        select(func.max(HelpRequest.id)).scalar_subquery(),
        select(func.max(HelpRequest.updated_at)).scalar_subquery(),
        select(func.max(Resident.updated_at)).scalar_subquery(),
        select(func.max(Volunteer.updated_at)).scalar_subquery(),
    )
