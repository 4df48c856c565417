"""A contact's status: to notify -> notified -> isolating until a date -> released.

Isolating takes effect at once. A volunteer leaves matching and offers (`isolating_until`, which
`Volunteer.is_available` and the matching queries read) and their open tasks go back to triage through the
state machine; a resident is offered food and prescription support in the same step (requests created for
them). Contacts are told through the ContactNotifier seam.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import OPEN_STATUSES, Channel, RequestType, Role, Status
from can_crm.models.request import HelpRequest
from can_crm.models.tracing import ContactStatus, TraceContact
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import audit, times
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.requests import intake, lifecycle
from can_crm.services.requests.events import Actor
from can_crm.services.tracing import notifier as notifiers
from can_crm.services.tracing.cases import clean_date, person_of
from can_crm.services.tracing.people import VOLUNTEER, details
from can_crm.unit_of_work import atomic

MAX_ISOLATION_DAYS = 28
SETTABLE = (ContactStatus.NOTIFIED.value, ContactStatus.ISOLATING.value, ContactStatus.RELEASED.value)
SUPPORT_TYPES = (RequestType.FOOD_PARCEL.value, RequestType.PRESCRIPTION.value)
# Shown to whoever sees the request (volunteers included): it asks for a contactless delivery without
# saying why, because why is health data.
SUPPORT_DETAILS = {
    RequestType.FOOD_PARCEL.value: "Food while the resident stays at home. Leave it at the door and step back.",
    RequestType.PRESCRIPTION.value: "Collect and deliver prescriptions while the resident stays at home. "
    "Leave them at the door and step back.",
}
# The volunteer's health is not the requester's business: the reason in the history says only this.
RETURN_REASON = "The volunteer can no longer do this task; returned for rematching"
ACTIVE_TASKS = (Status.MATCHED.value, Status.ACCEPTED.value, Status.IN_PROGRESS.value)


def _clean_until(value: object, today: date) -> date:
    until = clean_date(value, "until", "Isolating until")
    if until < today:
        raise ValidationError("Isolating until must be today or later", "until")
    if until > today + timedelta(days=MAX_ISOLATION_DAYS):
        raise ValidationError(f"Isolating until must be within {MAX_ISOLATION_DAYS} days", "until")
    return until


def _clean_support(value: object) -> list[str]:
    if value is None:
        return list(SUPPORT_TYPES)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("support must be a list of request types", "support")
    unknown = sorted(set(value) - set(SUPPORT_TYPES))
    if unknown:
        raise ValidationError(f"support can only be {' and '.join(SUPPORT_TYPES)}", "support")
    return [t for t in SUPPORT_TYPES if t in value]


@atomic
def set_status(contact: TraceContact, data: Mapping[str, Any], user_id: int) -> list[HelpRequest]:
    """Apply `{"status", "until"?, "support"?}` to `contact`; returns the requests created or sent back."""
    errors: dict[str, str] = {}
    today = times.today()
    status = str(data.get("status") or "")
    if status not in SETTABLE:
        errors["status"] = "status must be notified, isolating or released"
    until: date | None = None
    support: list[str] = []
    if status == ContactStatus.ISOLATING.value:
        try:
            until = _clean_until(data.get("until"), today)
        except ValidationError as exc:
            errors["until"] = exc.message
        try:
            support = _clean_support(data.get("support"))
        except ValidationError as exc:
            errors["support"] = exc.message
    elif data.get("until") not in (None, ""):
        errors["until"] = "Only an isolating contact has an until date"
    if errors:
        raise FieldErrors(errors)
    person = person_of(contact)
    language = details([person])[person].language
    tell = notifiers.notifier_for(user_id)
    actor = Actor(role=Role.COORDINATOR.value, user_id=user_id)
    changed: list[HelpRequest] = []
    if status == ContactStatus.NOTIFIED.value:
        contact.notified_at = utcnow()
        tell.notify_contact(person.kind, person.id, notifiers.EXPOSED, language)
    elif status == ContactStatus.ISOLATING.value and until is not None:
        contact.isolating_until = until
        contact.notified_at = contact.notified_at or utcnow()
        if person.kind == VOLUNTEER:
            changed = _isolate_volunteer(person.id, until, actor)
        else:
            changed = _offer_support(person.id, support, actor)
        tell.notify_contact(person.kind, person.id, notifiers.ISOLATE, language, {"until": until.strftime("%-d %B %Y")})
    elif status == ContactStatus.RELEASED.value:
        if person.kind == VOLUNTEER:
            _release_volunteer(person.id, contact.id, today)
        if contact.status == ContactStatus.ISOLATING.value:
            tell.notify_contact(person.kind, person.id, notifiers.RELEASED, language)
    contact.status = status
    db.session.flush()
    audit.record(user_id, f"contact_{status}", "tracing_contact", contact.id)
    return changed


def _isolate_volunteer(volunteer_id: int, until: date, actor: Actor) -> list[HelpRequest]:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        return []
    if volunteer.isolating_until is None or volunteer.isolating_until < until:
        volunteer.isolating_until = until
    tasks = list(
        db.session.scalars(
            select(HelpRequest)
            .where(HelpRequest.volunteer_id == volunteer_id, HelpRequest.status.in_(ACTIVE_TASKS))
            .order_by(HelpRequest.id)
        )
    )
    for task in tasks:
        lifecycle.transition(task, Status.TRIAGED.value, actor, RETURN_REASON)
    return tasks


def _release_volunteer(volunteer_id: int, contact_id: int, today: date) -> None:
    """Back to matching, unless another case still has them isolating."""
    still = db.session.scalar(
        select(TraceContact.id).where(
            TraceContact.volunteer_id == volunteer_id,
            TraceContact.id != contact_id,
            TraceContact.status == ContactStatus.ISOLATING.value,
            TraceContact.isolating_until >= today,
        )
    )
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is not None and still is None:
        volunteer.isolating_until = None


def _offer_support(resident_id: int, types: Sequence[str], actor: Actor) -> list[HelpRequest]:
    """One request per kind of support, unless the resident already has an open one of that type."""
    open_types = set(
        db.session.scalars(
            select(HelpRequest.type).where(
                HelpRequest.resident_id == resident_id, HelpRequest.status.in_([s.value for s in OPEN_STATUSES])
            )
        )
    )
    created = []
    for request_type in types:
        if request_type in open_types:
            continue
        data = {"type": request_type, "urgency": 2, "details": SUPPORT_DETAILS[request_type]}
        created.append(intake.submit(data, actor, Channel.PHONE, resident_id=resident_id))
    return created


def release_due(today: date | None = None) -> int:
    """Mark released every contact whose isolation has ended (a periodic task); returns how many."""
    today = today or times.today()
    rows = list(
        db.session.scalars(
            select(TraceContact).where(
                TraceContact.status == ContactStatus.ISOLATING.value, TraceContact.isolating_until < today
            )
        )
    )
    for row in rows:
        row.status = ContactStatus.RELEASED.value
    db.session.flush()
    return len(rows)
