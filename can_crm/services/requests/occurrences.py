"""Recurring requests: weekly shopping, a daily call."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import SLA_HOURS, EventKind, RequestType, Status
from can_crm.models.request import HelpRequest
from can_crm.services.common import times
from can_crm.services.requests.events import Actor, record_event
from can_crm.services.requests.references import new_reference
from can_crm.services.residents import request_location


def sla_due(request_type: str, created: datetime, due_by: date | None) -> datetime:
    """The SLA deadline: the type's target from intake, or the end of the due-by day if that is sooner."""
    target = created + timedelta(hours=SLA_HOURS[RequestType(request_type)])
    if due_by is not None:
        end_of_day = datetime.combine(due_by, time(23, 59), tzinfo=times.zone())
        return min(target, end_of_day)
    return target


def unique_reference() -> str:
    for _ in range(10):
        ref = new_reference()
        if not db.session.query(HelpRequest.id).filter_by(reference=ref).first():
            return ref
    raise RuntimeError("could not allocate a unique reference")  # 31^8 space: practically unreachable


def create_next_occurrence(previous: HelpRequest, interval: timedelta, actor: Actor) -> HelpRequest:
    now = utcnow()
    due_by = (previous.due_by + interval) if previous.due_by else times.today(now + interval)
    nxt = HelpRequest(
        reference=unique_reference(),
        resident_id=previous.resident_id,
        type=previous.type,
        urgency=previous.urgency,
        status=Status.TRIAGED.value,
        details=previous.details,
        volunteer_notes=previous.volunteer_notes,
        required_skills=list(previous.required_skills),
        min_dbs=previous.min_dbs,
        parcels=previous.parcels,
        delivery_window=previous.delivery_window,
        delivery_from_min=previous.delivery_from_min,
        delivery_to_min=previous.delivery_to_min,
        due_by=due_by,
        sla_due_at=sla_due(previous.type, now, due_by),
        recurrence=previous.recurrence,
        previous_occurrence_id=previous.id,
        channel=previous.channel,
        raised_by_id=previous.raised_by_id,
        created_at=now,
    )
    db.session.add(nxt)
    db.session.flush()
    request_location.follow([nxt.resident_id])
    record_event(nxt, actor, EventKind.CREATED, None, Status.TRIAGED.value, f"Next occurrence of {previous.reference}")
    return nxt
