"""The request queue: typed filters from a query string, one page of requests, and the queue's data version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
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


def _filtered(user: User, filters: QueueFilters, now: datetime) -> Select[tuple[HelpRequest]]:
    query = restrict_requests(select(HelpRequest), user)
    if filters.status == "all":
        pass
    elif filters.status == "open" or (filters.status is None and not filters.search):
        query = query.where(HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
    elif filters.status:
        query = query.where(HelpRequest.status == filters.status)
    if filters.type:
        query = query.where(HelpRequest.type == filters.type)
    if filters.urgency:
        query = query.where(HelpRequest.urgency == filters.urgency)
    if filters.overdue:
        query = query.where(HelpRequest.sla_due_at < now, HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
    if filters.ward or filters.search or filters.location_unknown:
        query = query.join(Resident, HelpRequest.resident_id == Resident.id)
        if filters.location_unknown:
            query = query.where(Resident.lat.is_(None))
        if filters.ward:
            query = query.where(Resident.ward_code == filters.ward)
        if filters.search:
            like = f"%{filters.search}%"
            query = query.where(
                HelpRequest.reference.ilike(like) | Resident.name.ilike(like) | Resident.postcode.ilike(like)
            )
    return query


# The queue's order: most urgent first, then the soonest deadline (ix_requests_queue_order, ix_requests_queue_open).
_ORDER = (HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)


def _count(query: Select[tuple[HelpRequest]]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def queue(user: User, filters: QueueFilters, page: int = 1, per_page: int = 50) -> Page[HelpRequest]:
    """One page of the queue as requests with their residents and volunteers (the API's list). Two queries."""
    page = max(1, page)
    query = _filtered(user, filters, utcnow())
    rows = db.session.scalars(
        query.options(joinedload(HelpRequest.resident), joinedload(HelpRequest.volunteer))
        .order_by(*_ORDER)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return Page(list(rows), _count(query), page, per_page)


def queue_rows(user: User, filters: QueueFilters, page: int = 1, per_page: int = 50) -> Page[QueueRow]:
    """One page of the queue as the page shows it: plain columns, no request, resident or volunteer objects built
    (50 of each took most of the page's time). The page's requests are chosen by id, then joined to their
    residents and volunteers. Two queries, whatever the size."""
    page = max(1, page)
    now = utcnow()
    query = _filtered(user, filters, now)
    chosen = query.with_only_columns(HelpRequest.id).order_by(*_ORDER).limit(per_page).offset((page - 1) * per_page)
    ids = chosen.subquery("chosen")
    rows = db.session.execute(
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
    ).tuples()
    items = [
        QueueRow(
            ref, kind, urgency, status, due, status in OPEN_STATUSES and due < now, postcode_district(code), at, name
        )
        for ref, kind, urgency, status, due, code, at, name in rows
    ]
    return Page(items, _count(query), page, per_page)


def queue_data_version() -> tuple[Any, ...]:
    """Changes whenever anything the queue shows changes: a request added or updated (every lifecycle step
    updates its row), or a resident's or volunteer's details edited. Four index lookups, one round trip."""
    return tuple(
        db.session.execute(
            select(
                select(func.max(HelpRequest.id)).scalar_subquery(),
                select(func.max(HelpRequest.updated_at)).scalar_subquery(),
                select(func.max(Resident.updated_at)).scalar_subquery(),
                select(func.max(Volunteer.updated_at)).scalar_subquery(),
            )
        ).one()
    )
