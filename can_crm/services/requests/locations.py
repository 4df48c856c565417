"""Placing a resident whose postcode the directory does not list yet: the request was accepted and flagged
"location unknown"; a coordinator sets the location, and matching and the out-of-area check can then run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.enums import OPEN_STATUSES, EventKind, LocationSource
from can_crm.models.request import HelpRequest
from can_crm.models.user import User
from can_crm.services.common import audit, policy
from can_crm.services.requests.events import record_event
from can_crm.services.residents import profiles as residents
from can_crm.unit_of_work import atomic

_HOW = {
    LocationSource.NEARBY_POSTCODE: "Location set from a nearby postcode",
    LocationSource.COORDINATES: "Location set from coordinates",
}


@atomic
def set_location(user: User, reference: str, data: Mapping[str, Any]) -> HelpRequest:
    """Set the location of the resident of request `reference` (which `user` may see); every open request of
    that resident records it in its history."""
    request = policy.require_request(user, reference)
    resident = residents.get_resident(request.resident_id)
    source = residents.set_location(resident, data)
    actor = policy.actor_for(user)
    open_requests = db.session.scalars(
        select(HelpRequest)
        .where(HelpRequest.resident_id == resident.id, HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(HelpRequest.id)
    ).all()
    for each in open_requests or [request]:
        record_event(each, actor, EventKind.LOCATION, reason=_HOW[source])
    audit.record(user.id, "set_location", "resident", resident.id)
    db.session.flush()
    return request
