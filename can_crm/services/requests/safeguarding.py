"""Safeguarding concerns: anyone who can see a request may raise one; only coordinators see them.

The request's history only says that a concern was raised: the details stay in the concern,
which non-coordinators never see.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, case, select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import EventKind, Role
from can_crm.models.request import HelpRequest
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.models.user import User
from can_crm.services.common import audit, policy
from can_crm.services.common.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from can_crm.services.common.validation import clean_text
from can_crm.services.requests.events import record_event
from can_crm.unit_of_work import atomic

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class ConcernRow:
    concern: SafeguardingConcern
    reference: str | None
    raised_by_name: str | None


def _require_coordinator(user: User) -> None:
    if user.role != Role.COORDINATOR.value:
        raise Forbidden("Only coordinators can see safeguarding concerns")


@atomic
def raise_concern(user: User, reference: str, details: str | None) -> SafeguardingConcern:
    """Record a concern on a request `user` may see (any role), and put it in the coordinators' queue."""
    request = policy.require_request(user, reference)
    try:
        text = clean_text(details, "details", "what you are worried about", max_length=2000, required=True)
    except ValidationError as exc:
        raise FieldErrors({"details": exc.message}) from None
    concern = SafeguardingConcern(
        request_id=request.id,
        resident_id=request.resident_id,
        raised_by_id=user.id,
        details=text,
        status=OPEN,
        created_at=utcnow(),
    )
    db.session.add(concern)
    db.session.flush()
    record_event(request, policy.actor_for(user), EventKind.SAFEGUARDING, reason="A safeguarding concern was raised")
    audit.record(user.id, "raise_concern", "safeguarding_concern", concern.id)
    return concern


def queue(user: User) -> list[ConcernRow]:
    """Every concern, open ones first, oldest first within each group."""
    _require_coordinator(user)
    rows = db.session.execute(
        select(SafeguardingConcern, HelpRequest.reference, User.name)
        .outerjoin(HelpRequest, SafeguardingConcern.request_id == HelpRequest.id)
        .outerjoin(User, SafeguardingConcern.raised_by_id == User.id)
        .order_by(
            case((SafeguardingConcern.status == OPEN, 0), else_=1),
            SafeguardingConcern.created_at,
            SafeguardingConcern.id,
        )
    ).all()
    audit.record(user.id, "view_safeguarding_queue", "safeguarding_queue", 0)
    return [ConcernRow(concern, reference, name) for concern, reference, name in rows]


def concerns_for_request(user: User, request: HelpRequest) -> list[SafeguardingConcern]:
    """Concerns on one request, for the coordinator's request page; nobody else gets any."""
    if user.role != Role.COORDINATOR.value:
        return []
    return list(db.session.scalars(_concerns_statement(), {"request_id": request.id}))


@functools.cache
def _concerns_statement() -> Select[tuple[SafeguardingConcern]]:
    """Built once per process: the request page reads it on every view."""
    return (
        select(SafeguardingConcern)
        .where(SafeguardingConcern.request_id == bindparam("request_id"))
        .order_by(SafeguardingConcern.created_at, SafeguardingConcern.id)
    )


@atomic
def close_concern(user: User, concern_id: int, outcome: str | None) -> SafeguardingConcern:
    _require_coordinator(user)
    concern = db.session.get(SafeguardingConcern, concern_id)
    if concern is None:
        raise NotFound("No safeguarding concern with that id")
    if concern.status != OPEN:
        raise Conflict("This concern is already closed")
    try:
        text = clean_text(outcome, "outcome", "the outcome", max_length=2000, required=True)
    except ValidationError as exc:
        raise FieldErrors({"outcome": exc.message}) from None
    concern.status = CLOSED
    concern.outcome = text
    concern.closed_at = utcnow()
    concern.closed_by_id = user.id
    audit.record(user.id, "close_concern", "safeguarding_concern", concern.id)
    db.session.flush()
    return concern
