"""Actors and the append-only request history."""

from __future__ import annotations

from dataclasses import dataclass

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.request import HelpRequest, RequestEvent

RESIDENT = "resident"
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user (id and role), a resident answering a link, or the system."""

    role: str
    user_id: int | None = None
    volunteer_id: int | None = None


def record_event(
    request: HelpRequest,
    actor: Actor,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    *,
    volunteer_id: int | None = None,
) -> RequestEvent:
    """Append one line to the request's history (never updated or deleted afterwards). `kind` is an EventKind;
    `volunteer_id` is the volunteer the event concerns, if any."""
    event = RequestEvent(
        request_id=request.id,
        kind=str(kind),
        volunteer_id=volunteer_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        actor_id=actor.user_id,
        actor_role=actor.role,
        created_at=utcnow(),
    )
    db.session.add(event)
    return event
