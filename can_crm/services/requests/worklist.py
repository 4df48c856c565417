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
from can_crm.services.common.policy import restrict_requests
from can_crm.services.common.validation import clean_text
from can_crm.services.requests.rules import clean_urgency

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


@dataclass(frozen=True)
class Page:
    items: list[HelpRequest]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


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


def queue(user: User, filters: QueueFilters, page: int = 1, per_page: int = 50) -> Page:
    """One page of the queue: most urgent first, then the soonest deadline. Two queries, whatever the size."""
    page = max(1, page)
    now = utcnow()
    query = _filtered(user, filters, now)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(
        query.options(joinedload(HelpRequest.resident), joinedload(HelpRequest.volunteer))
        .order_by(HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return Page(list(rows), total, page, per_page)


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
