"""Requests for help after intake: triage, assignment, the request page, status changes, tracking."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.enums import (
    EventKind,
    Role,
    Status,
)
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import areas, audit, policy, times
from can_crm.services.common.errors import NotFound, TransitionRefused, ValidationError
from can_crm.services.common.policy import restrict_requests
from can_crm.services.common.validation import clean_text
from can_crm.services.requests import delivery, lifecycle, safeguarding
from can_crm.services.requests.events import Actor, record_event
from can_crm.services.requests.occurrences import sla_due
from can_crm.services.requests.rules import clean_request
from can_crm.services.volunteers import offers, workload
from can_crm.services.volunteers import profiles as volunteers
from can_crm.unit_of_work import atomic

# The states whose priority, skills, due date and notes may still be set (a new request becomes triaged).
TRIAGEABLE = (Status.NEW.value, Status.TRIAGED.value, Status.ESCALATED.value)


def load_with_history(request: HelpRequest) -> list[RequestEvent]:
    return list(db.session.scalars(_history_statement(), {"request_id": request.id}))


# The request page's statements, built once per process (the reference and the request's id are parameters of
# each execution): a coordinator opens request after request, and building them afresh was a cost of its own.


@functools.cache
def _history_statement() -> Select[tuple[RequestEvent]]:
    return (
        select(RequestEvent)
        .where(RequestEvent.request_id == bindparam("request_id"))
        .options(joinedload(RequestEvent.actor))
        .order_by(RequestEvent.id)
    )


@functools.cache
def _page_statement() -> Select[tuple[HelpRequest]]:
    return (
        select(HelpRequest)
        .where(HelpRequest.reference == bindparam("reference"))
        .options(joinedload(HelpRequest.resident), joinedload(HelpRequest.volunteer), joinedload(HelpRequest.raised_by))
    )


@atomic
def triage(request: HelpRequest, data: Mapping[str, Any], actor: Actor) -> HelpRequest:
    """Set priority, skills, due date and notes; a new request becomes triaged."""
    keys = ("urgency", "required_skills", "due_by", "min_dbs", "details", *delivery.FIELDS)
    fields = {k: v for k, v in data.items() if k in keys}
    cleaned = clean_request(fields, partial=True, request_type=request.type)
    notes = clean_text(data.get("coordinator_notes"), "coordinator_notes", "notes", max_length=2000) or None
    if request.status == Status.NEW.value:
        lifecycle.transition(request, Status.TRIAGED.value, actor, "Triaged")
    elif request.status not in TRIAGEABLE:
        raise TransitionRefused(f"A {request.status} request cannot be triaged again; return it to triage first")
    for key, value in cleaned.items():
        setattr(request, key, value)
    if "due_by" in cleaned:
        request.sla_due_at = sla_due(request.type, request.created_at, cleaned["due_by"])
    if notes:
        request.coordinator_notes = notes
    record_event(request, actor, EventKind.TRIAGE, reason=_describe_triage(request, cleaned))
    db.session.flush()
    return request


def _describe_triage(request: HelpRequest, cleaned: Mapping[str, Any]) -> str:
    parts = [
        f"{k.replace('_', ' ')}: {', '.join(v) if isinstance(v, list) else v}"
        for k, v in cleaned.items()
        if k not in ("delivery_window", "delivery_from_min", "delivery_to_min")
    ]
    if "delivery_window" in cleaned:
        parts.append(f"delivery: {delivery.describe(request).lower()}")
    return "; ".join(parts) or "Triage notes updated"


@atomic
def assign_volunteer(
    request: HelpRequest,
    volunteer_id: int,
    actor: Actor,
    reason: str = "Offered by hand",
    *,
    within_limits: bool = True,
    announce: bool = True,
) -> HelpRequest:
    """Propose a volunteer: a triaged request becomes matched (`reason` says how: by hand, a delivery round...).

    A volunteer at their own limit (tasks at once, or a day) is refused, as matching refuses them; callers that
    have checked the limits already (approving a run's proposals) or plan by other rules (a delivery round fills
    a car by its parcels) pass `within_limits=False`. The offer is announced to the volunteer on their channels
    (a text for those who chose texts) unless `announce` is False: a round's stops are one round, taken on the
    round's page, not one text per stop."""
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("No volunteer with that id", "volunteer_id")
    if not volunteer.is_available(times.today()):
        raise ValidationError("That volunteer is paused, isolating or inactive: choose another", "volunteer_id")
    full = workload.load_of(volunteer).full_reason(volunteer) if within_limits else None
    if full is not None:
        raise ValidationError(f"Choose another volunteer: {full}", "volunteer_id")
    if request.status != Status.TRIAGED.value:
        raise TransitionRefused(f"Only a triaged request can be assigned; this one is {request.status}")
    request.volunteer_id = volunteer.id
    event = lifecycle.transition(request, Status.MATCHED.value, actor, reason)
    if announce:
        db.session.flush()
        offers.announce(volunteer, request, f"volunteer_offer:e{event.id}")
    return request


def get_by_reference(reference: str) -> HelpRequest:
    request = db.session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    if request is None:
        raise NotFound(f"No request with reference {reference}")
    return request


def track(reference: str, postcode: str) -> HelpRequest | None:
    """What a resident sees at /track: only with the right reference AND postcode together."""
    return db.session.scalar(
        select(HelpRequest)
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(HelpRequest.reference == reference, Resident.postcode == postcode)
    )


@dataclass(frozen=True)
class RequestPage:
    request: HelpRequest
    events: list[RequestEvent]
    targets: list[Status]
    reason_required: dict[str, bool]
    # Coordinators only: volunteers who could be assigned by hand, nearest first, and safeguarding concerns.
    candidates: list[volunteers.Candidate]
    concerns: list[SafeguardingConcern]
    # Coordinators only: the resident lives outside this authority (geo.OutOfArea), or None.
    out_of_area: Any = None


def request_page(user: User, reference: str) -> RequestPage:
    """A request `user` may see, with its resident, volunteer and whole history loaded (404 otherwise).

    Every view shows some of the resident's details, so every view is audited.
    """
    request = db.session.scalars(restrict_requests(_page_statement(), user), {"reference": reference}).one_or_none()
    if request is None:
        raise NotFound(f"No request with reference {reference}")
    actor = policy.actor_for(user)
    targets = lifecycle.allowed_targets(request, actor)
    rules = lifecycle.TRANSITIONS[Status(request.status)]
    candidates: list[volunteers.Candidate] = []
    concerns: list[SafeguardingConcern] = []
    out_of_area = None
    # Every role that opens the page sees something of the resident (coordinators all of it, partners and
    # councillors the name and postcode, the volunteer the address): each view is in the audit log.
    audit.record(user.id, "view_resident", "resident", request.resident_id)
    if user.role == Role.COORDINATOR.value:
        concerns = safeguarding.concerns_for_request(user, request)
        out_of_area = areas.responsible_authority(request.resident.lat, request.resident.lon)
        if request.status == Status.TRIAGED.value:
            resident = request.resident
            candidates = volunteers.candidates_for(
                resident.lat, resident.lon, times.today(), language=resident.language
            )
    return RequestPage(
        request,
        load_with_history(request),
        targets,
        {t.value: rules[t].reason_required for t in targets},
        candidates,
        concerns,
        out_of_area,
    )


@atomic
def move(user: User, reference: str, to: str, reason: str | None) -> HelpRequest:
    """Move a request the user may see through the state machine (which checks role and state)."""
    request = policy.require_request(user, reference)
    lifecycle.transition(request, to, policy.actor_for(user), reason)
    db.session.flush()
    return request
