"""Requests for help: intake from every channel, triage, assignment, the coordinator queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import (
    OPEN_STATUSES,
    SKILLS,
    Channel,
    DbsLevel,
    Recurrence,
    RequestType,
    Role,
    Status,
    values,
)
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import areas, audit, policy
from can_crm.services.common.errors import DomainError, FieldErrors, NotFound, TransitionRefused, ValidationError
from can_crm.services.common.policy import restrict_requests
from can_crm.services.common.validation import clean_choice, clean_text
from can_crm.services.requests import lifecycle, safeguarding
from can_crm.services.requests.events import Actor, record_event
from can_crm.services.requests.occurrences import sla_due, unique_reference
from can_crm.services.residents import profiles as residents
from can_crm.services.volunteers import profiles as volunteers


def clean_urgency(value: object) -> int:
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        raise ValidationError("Urgency must be 1 (routine), 2 (soon) or 3 (urgent)", "urgency")
    try:
        urgency = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValidationError("Urgency must be 1 (routine), 2 (soon) or 3 (urgent)", "urgency") from None
    if urgency not in (1, 2, 3) or str(value).strip() not in ("1", "2", "3"):
        raise ValidationError("Urgency must be 1 (routine), 2 (soon) or 3 (urgent)", "urgency")
    return urgency


def _clean_due_by(value: object, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        due = value
    elif isinstance(value, str):
        try:
            due = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError("Date help is needed by must be a real date, like 2026-12-24", "due_by") from None
    else:
        raise ValidationError("Date help is needed by must be a real date, like 2026-12-24", "due_by")
    if due < today:
        raise ValidationError("Date help is needed by must be today or in the future", "due_by")
    if due > today + timedelta(days=366):
        raise ValidationError("Date help is needed by must be within the next year", "due_by")
    return due


def _clean_skills(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Required skills must be a list of skill names", "required_skills")
    unknown = sorted(set(value) - set(SKILLS))
    if unknown:
        raise ValidationError(f"Unknown skill: {', '.join(unknown)}", "required_skills")
    return sorted(set(value))


_REQUEST_RULES: dict[str, Any] = {
    "type": lambda v, t: clean_choice(v, values(RequestType), "type", "what help is needed"),
    "urgency": lambda v, t: clean_urgency(v),
    "details": lambda v, t: clean_text(v, "details", "details of the help needed", max_length=2000),
    "volunteer_notes": lambda v, t: (
        clean_text(v, "volunteer_notes", "notes for the volunteer", max_length=1000) or None
    ),
    "due_by": lambda v, t: _clean_due_by(v, t),
    "recurrence": lambda v, t: clean_choice(v or "none", values(Recurrence), "recurrence", "how often help is needed"),
    "required_skills": lambda v, t: _clean_skills(v),
    "min_dbs": lambda v, t: clean_choice(v or "none", values(DbsLevel), "min_dbs", "the DBS level needed"),
}


def clean_request(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    today = utcnow().date()
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, rule in _REQUEST_RULES.items():
        if partial and field not in data:
            continue
        try:
            cleaned[field] = rule(data.get(field), today)
        except ValidationError as exc:
            errors[exc.field or field] = exc.message
    if errors:
        raise FieldErrors(errors)
    return cleaned


def create_request(
    request_data: Mapping[str, Any],
    actor: Actor,
    channel: Channel,
    *,
    resident_data: Mapping[str, Any] | None = None,
    resident_id: int | None = None,
) -> HelpRequest:
    """Take a request from any channel. Validates everything first, so a refusal changes nothing."""
    errors: dict[str, str] = {}
    cleaned_request: dict[str, Any] = {}
    try:
        cleaned_request = clean_request(request_data)
    except FieldErrors as exc:
        errors.update(exc.fields)
    resident: Resident | None = None
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None:
            errors["resident_id"] = "No resident with that id"
    else:
        try:
            residents.clean_resident(resident_data or {})
        except FieldErrors as exc:
            errors.update({f"resident.{k}": v for k, v in exc.fields.items()})
    if errors:
        raise FieldErrors(errors)
    if resident is None:
        try:
            resident = residents.create_resident(resident_data or {}, actor.user_id)
        except FieldErrors as exc:
            raise FieldErrors({f"resident.{k}": v for k, v in exc.fields.items()}) from None
    now = utcnow()
    request = HelpRequest(
        reference=unique_reference(),
        resident_id=resident.id,
        status=Status.NEW.value,
        channel=channel.value,
        raised_by_id=actor.user_id,
        created_at=now,
        sla_due_at=sla_due(cleaned_request["type"], now, cleaned_request["due_by"]),
        **cleaned_request,
    )
    db.session.add(request)
    db.session.flush()
    record_event(request, actor, "created", None, Status.NEW.value, f"Received by {channel.value}")
    return request


def likely_duplicates(resident_data: Mapping[str, Any], request_type: str) -> list[HelpRequest]:
    """Open requests of the same type for what looks like the same resident (same name and postcode, or phone)."""
    try:
        cleaned = residents.clean_resident(resident_data)
    except FieldErrors:
        return []
    same_person = (func.lower(Resident.name) == cleaned["name"].lower()) & (Resident.postcode == cleaned["postcode"])
    if cleaned.get("phone"):
        same_person = same_person | (Resident.phone == cleaned["phone"])
    query = (
        select(HelpRequest)
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(same_person, HelpRequest.type == request_type, HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
        .options(joinedload(HelpRequest.resident))
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
        .limit(5)
    )
    return list(db.session.scalars(query).unique())


def load_with_history(request: HelpRequest) -> list[RequestEvent]:
    return list(
        db.session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id)
            .options(joinedload(RequestEvent.actor))
            .order_by(RequestEvent.id)
        )
    )


def triage(request: HelpRequest, data: Mapping[str, Any], actor: Actor) -> HelpRequest:
    """Set priority, skills, due date and notes; a new request becomes triaged."""
    fields = {k: v for k, v in data.items() if k in ("urgency", "required_skills", "due_by", "min_dbs", "details")}
    cleaned = clean_request(fields, partial=True)
    notes = clean_text(data.get("coordinator_notes"), "coordinator_notes", "notes", max_length=2000) or None
    if request.status == Status.NEW.value:
        lifecycle.transition(request, Status.TRIAGED.value, actor, "Triaged")
    elif request.status not in (Status.TRIAGED.value, Status.ESCALATED.value):
        raise TransitionRefused(f"A {request.status} request cannot be triaged again; return it to triage first")
    for key, value in cleaned.items():
        setattr(request, key, value)
    if "due_by" in cleaned:
        request.sla_due_at = sla_due(request.type, request.created_at, cleaned["due_by"])
    if notes:
        request.coordinator_notes = notes
    record_event(request, actor, "triage", reason=_describe_triage(cleaned))
    db.session.flush()
    return request


def _describe_triage(cleaned: Mapping[str, Any]) -> str:
    parts = [f"{k.replace('_', ' ')}: {', '.join(v) if isinstance(v, list) else v}" for k, v in cleaned.items()]
    return "; ".join(parts) or "Triage notes updated"


def assign_volunteer(request: HelpRequest, volunteer_id: int, actor: Actor) -> HelpRequest:
    """Propose a volunteer by hand: a triaged request becomes matched."""
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("No volunteer with that id", "volunteer_id")
    if not volunteer.is_available(utcnow().date()):
        raise ValidationError("That volunteer is paused, isolating or inactive: choose another", "volunteer_id")
    if request.status != Status.TRIAGED.value:
        raise TransitionRefused(f"Only a triaged request can be assigned; this one is {request.status}")
    request.volunteer_id = volunteer.id
    lifecycle.transition(request, Status.MATCHED.value, actor, f"Assigned by hand to volunteer #{volunteer.id}")
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


class LikelyDuplicate(DomainError):
    """The new request looks like one that is still open; the person must confirm it is not a duplicate."""

    code = "likely_duplicate"
    http_status = 409

    def __init__(self, matches: list[HelpRequest]) -> None:
        super().__init__("This looks like a request that is already open", "not_duplicate")
        self.matches = matches


def validate_new(request_data: Mapping[str, Any], resident_data: Mapping[str, Any]) -> None:
    """Check a new request and its resident together, refusing with every field's message at once."""
    errors: dict[str, str] = {}
    try:
        clean_request(request_data)
    except FieldErrors as exc:
        errors.update(exc.fields)
    try:
        residents.clean_resident(resident_data)
    except FieldErrors as exc:
        errors.update({f"resident.{k}": v for k, v in exc.fields.items()})
    if errors:
        raise FieldErrors(errors)


def create_checked(
    request_data: Mapping[str, Any],
    resident_data: Mapping[str, Any],
    actor: Actor,
    channel: Channel,
    *,
    not_duplicate: bool,
) -> HelpRequest:
    """Staff intake (phone, partner, councillor): validate, warn of a likely duplicate unless confirmed, create."""
    validate_new(request_data, resident_data)
    if not not_duplicate:
        matches = likely_duplicates(resident_data, str(request_data.get("type")))
        if matches:
            raise LikelyDuplicate(matches)
    return create_request(request_data, actor, channel, resident_data=resident_data)


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

    A coordinator opening the page sees the resident's details, so the view is audited.
    """
    query = restrict_requests(select(HelpRequest).where(HelpRequest.reference == reference), user).options(
        joinedload(HelpRequest.resident), joinedload(HelpRequest.volunteer), joinedload(HelpRequest.raised_by)
    )
    request = db.session.scalars(query).unique().one_or_none()
    if request is None:
        raise NotFound(f"No request with reference {reference}")
    actor = policy.actor_for(user)
    targets = lifecycle.allowed_targets(request, actor)
    rules = lifecycle.TRANSITIONS[Status(request.status)]
    candidates: list[volunteers.Candidate] = []
    concerns: list[SafeguardingConcern] = []
    out_of_area = None
    if user.role == Role.COORDINATOR.value:
        audit.record(user.id, "view_resident", "resident", request.resident_id)
        concerns = safeguarding.concerns_for_request(user, request)
        out_of_area = areas.responsible_authority(request.resident.lat, request.resident.lon)
        if request.status == Status.TRIAGED.value:
            candidates = volunteers.candidates_for(request.resident.lat, request.resident.lon, utcnow().date())
    return RequestPage(
        request,
        load_with_history(request),
        targets,
        {t.value: rules[t].reason_required for t in targets},
        candidates,
        concerns,
        out_of_area,
    )


def move(user: User, reference: str, to: str, reason: str | None) -> HelpRequest:
    """Move a request the user may see through the state machine (which checks role and state)."""
    request = policy.require_request(user, reference)
    lifecycle.transition(request, to, policy.actor_for(user), reason)
    db.session.flush()
    return request
