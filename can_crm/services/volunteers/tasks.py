"""A volunteer's accepted tasks and the progress they report (idempotent: phones resend when offline).

Status changes go through the one state machine: on_my_way/collected -> in_progress, delivered -> delivered,
could_not_deliver -> triaged (back for rematching). Steps that change no status (collected after on my way,
why it could not be delivered) are PROGRESS history events naming the volunteer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from flask import current_app
from sqlalchemy import Integer, Row, Select, and_, bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import (
    NOT_DELIVERED_REASONS,
    REQUEST_TYPE_LABELS,
    EventKind,
    ProgressStep,
    RequestType,
    Status,
)
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer, VolunteerProgress
from can_crm.services.common.errors import Conflict, FieldErrors, NotFound, ValidationError
from can_crm.services.common.sql import fixed, fixed_in, read
from can_crm.services.common.validation import clean_choice, clean_text
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor, record_event
from can_crm.unit_of_work import atomic

ACTIVE = (Status.ACCEPTED.value, Status.IN_PROGRESS.value)
STEP_LABELS = {
    ProgressStep.ON_MY_WAY.value: "On my way",
    ProgressStep.COLLECTED.value: "Collected",
    ProgressStep.DELIVERED.value: "Delivered",
    ProgressStep.COULD_NOT_DELIVER.value: "Could not deliver",
}
MAX_KEY = 64


@dataclass(frozen=True)
class TaskView:
    """An accepted task with what the volunteer needs at the door. Delivered tasks keep these for a while only."""

    reference: str
    type: str
    type_label: str
    status: str
    urgency: int
    due_by: date | None
    name: str
    address: str
    postcode: str
    phone: str | None
    details: str
    volunteer_notes: str | None
    maps_url: str
    last_step: str | None
    delivered_at: datetime | None
    welfare_check: bool


def details_hours() -> int:
    return int(current_app.config["VOLUNTEER_DETAILS_HOURS"])


def _maps_url(address: str, postcode: str, lat: float | None, lon: float | None) -> str:
    # A geo: link would be ideal on Android but not iOS; this URL opens the maps app on both, or a browser.
    query = f"{lat:.5f},{lon:.5f}" if lat is not None and lon is not None else f"{address}, {postcode}"
    return f"https://www.google.com/maps/search/?api=1&query={quote_plus(query)}"


# What a task shows, read as plain columns (a list page builds no HelpRequest or Resident objects).
TASK_COLUMNS = (
    HelpRequest.reference,
    HelpRequest.type,
    HelpRequest.status,
    HelpRequest.urgency,
    HelpRequest.due_by,
    HelpRequest.details,
    HelpRequest.volunteer_notes,
    HelpRequest.delivered_at,
    Resident.name,
    Resident.address_line1,
    Resident.address_line2,
    Resident.town,
    Resident.postcode,
    Resident.phone,
    Resident.lat,
    Resident.lon,
)


def list_tasks(volunteer: Volunteer, now: datetime | None = None, reference: str | None = None) -> list[TaskView]:
    """Accepted and in-progress tasks first (most urgent, soonest due), then recently delivered ones; only the
    task `reference` when given.

    The last step and an unanswered lone-working alert come in the same statement (one round trip)."""
    now = now or utcnow()
    values: dict[str, Any] = {"volunteer_id": volunteer.id, "since": now - timedelta(hours=details_hours())}
    if reference is not None:
        values["reference"] = reference
    return [_view(row) for row in read(_tasks_statement(reference is not None), values)]


@functools.cache
def _tasks_statement(one: bool) -> Select[Any]:
    """The SELECT behind "My tasks" (of the task `reference` alone when `one`), built once per process: the
    volunteer, the time delivered tasks are shown `since` and the reference are parameters of each execution.
    Building it afresh took longer than running it, profiled."""
    volunteer_id = bindparam("volunteer_id", type_=Integer)
    mine = and_(VolunteerProgress.request_id == HelpRequest.id, VolunteerProgress.volunteer_id == volunteer_id)
    last_step = (
        select(VolunteerProgress.step).where(mine).order_by(VolunteerProgress.id.desc()).limit(1).scalar_subquery()
    )
    welfare = (
        select(VolunteerProgress.id)
        .where(mine, VolunteerProgress.alerted_at.is_not(None), VolunteerProgress.answered_ok_at.is_(None))
        .exists()
    )
    query = (
        select(*TASK_COLUMNS, last_step.label("last_step"), welfare.label("welfare"))
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .where(
            HelpRequest.volunteer_id == volunteer_id,
            or_(
                fixed_in(HelpRequest.status, ACTIVE),
                # Delivered: still shown (address and phone included) for the configured hours only.
                and_(
                    HelpRequest.status == fixed(Status.DELIVERED.value),
                    HelpRequest.delivered_at >= bindparam("since", type_=HelpRequest.delivered_at.type),
                ),
            ),
        )
        .order_by(
            HelpRequest.delivered_at.is_not(None), HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id
        )
    )
    if one:
        query = query.where(HelpRequest.reference == bindparam("reference"))
    return query


def _view(row: Row[Any]) -> TaskView:
    """A task from a row of TASK_COLUMNS, its last step and whether a lone-working alert waits for an answer."""
    address = ", ".join(p for p in (row.address_line1, row.address_line2, row.town) if p)
    return TaskView(
        reference=row.reference,
        type=row.type,
        type_label=REQUEST_TYPE_LABELS[RequestType(row.type)],
        status=row.status,
        urgency=row.urgency,
        due_by=row.due_by,
        name=row.name,
        address=address,
        postcode=row.postcode,
        phone=row.phone,
        details=row.details,
        volunteer_notes=row.volunteer_notes,
        maps_url=_maps_url(address, row.postcode, row.lat, row.lon),
        last_step=row.last_step,
        delivered_at=row.delivered_at,
        welfare_check=bool(row.welfare) and row.status in ACTIVE,
    )


def get_task(volunteer: Volunteer, reference: str, now: datetime | None = None) -> TaskView:
    found = list_tasks(volunteer, now, reference)
    if not found:
        raise NotFound("That task is not in your list")
    return found[0]


def clean_step(step: object, reason: object) -> tuple[str, str | None]:
    errors: dict[str, str] = {}
    cleaned_step = cleaned_reason = None
    try:
        cleaned_step = clean_choice(step, [s.value for s in ProgressStep], "step", "what happened")
    except ValidationError as exc:
        errors["step"] = exc.message
    if cleaned_step == ProgressStep.COULD_NOT_DELIVER.value:
        try:
            cleaned_reason = clean_choice(reason, list(NOT_DELIVERED_REASONS), "reason", "why you could not deliver")
        except ValidationError as exc:
            errors["reason"] = exc.message
    if errors:
        raise FieldErrors(errors)
    assert cleaned_step is not None  # noqa: S101 - errors were raised above otherwise
    return cleaned_step, cleaned_reason


def clean_key(key: object) -> str:
    text = key.strip() if isinstance(key, str) else ""
    if not text or len(text) > MAX_KEY or not all(c.isalnum() or c in "-_" for c in text):
        raise FieldErrors({"idempotency_key": "Send an idempotency_key of 1 to 64 letters, digits, - or _"})
    return text


def step_key(key: object, step: object) -> str:
    """The idempotency key of one step of a task's form: the page's key for the task, with the step."""
    return f"{key}-{step}" if isinstance(key, str) and key and isinstance(step, str) and step.isidentifier() else ""


def _replay(volunteer: Volunteer, key: str) -> dict[str, Any] | None:
    row = db.session.scalar(
        select(VolunteerProgress).where(
            VolunteerProgress.volunteer_id == volunteer.id, VolunteerProgress.idempotency_key == key
        )
    )
    return dict(row.response or {}, replayed=True) if row is not None else None


@atomic
def report_progress(
    volunteer: Volunteer, reference: str, step: object, reason: object, key: object, actor: Actor
) -> dict[str, Any]:
    """Apply one progress step once per idempotency key; the same key again returns the first answer.

    A step for a task that is no longer this volunteer's (reassigned meanwhile) is refused with a message the
    volunteer sees, and changes nothing.
    """
    cleaned_key = clean_key(key)
    first = _replay(volunteer, cleaned_key)
    if first is not None:
        return first
    cleaned_step, why = clean_step(step, reason)
    request = db.session.scalar(select(HelpRequest).where(HelpRequest.reference == reference).with_for_update())
    if request is None or request.volunteer_id != volunteer.id or request.status not in ACTIVE:
        if request is not None and request.volunteer_id == volunteer.id and request.status == Status.DELIVERED.value:
            raise Conflict("This task is already marked delivered. Thank you")
        raise Conflict(
            "This task is no longer yours: a coordinator changed it while you were away. Nothing was recorded"
        )
    row = VolunteerProgress(
        volunteer_id=volunteer.id, request_id=request.id, idempotency_key=cleaned_key, step=cleaned_step
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # The same key arrived twice at once: the first one's answer stands.
        replayed = _replay(volunteer, cleaned_key)
        if replayed is None:
            raise
        return replayed
    _apply(request, cleaned_step, why, volunteer, actor)
    row.response = {"reference": request.reference, "step": cleaned_step, "status": request.status}
    db.session.flush()
    return dict(row.response, replayed=False)


def _apply(request: HelpRequest, step: str, why: str | None, volunteer: Volunteer, actor: Actor) -> None:
    status = request.status
    if step in (ProgressStep.ON_MY_WAY.value, ProgressStep.COLLECTED.value):
        if status == Status.ACCEPTED.value:
            lifecycle.transition(request, Status.IN_PROGRESS.value, actor, STEP_LABELS[step])
        else:
            record_event(request, actor, EventKind.PROGRESS, reason=STEP_LABELS[step], volunteer_id=volunteer.id)
    elif step == ProgressStep.DELIVERED.value:
        if status == Status.ACCEPTED.value:
            lifecycle.transition(request, Status.IN_PROGRESS.value, actor, "Delivered without on my way first")
        lifecycle.transition(request, Status.DELIVERED.value, actor)
    else:
        label = NOT_DELIVERED_REASONS[why or "other"]
        record_event(
            request, actor, EventKind.PROGRESS, reason=f"Could not deliver: {label}", volunteer_id=volunteer.id
        )
        lifecycle.transition(request, Status.TRIAGED.value, actor, f"Could not deliver: {label}")


# -- lone working ------------------------------------------------------------------------------------------


def overdue_visits(now: datetime) -> list[VolunteerProgress]:
    """Visits (on my way, still in progress with the same volunteer) past the expected time plus the margin."""
    cutoff = now - timedelta(
        minutes=int(current_app.config["VISIT_EXPECTED_MINUTES"])
        + int(current_app.config["LONE_WORKING_MARGIN_MINUTES"])
    )
    query = (
        select(VolunteerProgress)
        .join(HelpRequest, HelpRequest.id == VolunteerProgress.request_id)
        .where(
            VolunteerProgress.step == ProgressStep.ON_MY_WAY.value,
            VolunteerProgress.alerted_at.is_(None),
            VolunteerProgress.created_at < cutoff,
            HelpRequest.status == Status.IN_PROGRESS.value,
            HelpRequest.volunteer_id == VolunteerProgress.volunteer_id,
        )
        .order_by(VolunteerProgress.id)
        .with_for_update(of=VolunteerProgress, skip_locked=True)
    )
    return list(db.session.scalars(query))


def alert_overdue(now: datetime | None = None) -> int:
    """Alert the coordinators (a LONE_WORKING history event) once per overrunning visit; the volunteer's task
    screen asks "are you OK?" until they answer."""
    now = now or utcnow()
    visits = overdue_visits(now)
    for visit in visits:
        request = db.session.get(HelpRequest, visit.request_id)
        assert request is not None  # noqa: S101 - joined above
        visit.alerted_at = now
        record_event(
            request,
            Actor(role="system"),
            EventKind.LONE_WORKING,
            reason="The volunteer's visit has overrun: check they are safe",
            volunteer_id=visit.volunteer_id,
        )
    db.session.flush()
    return len(visits)


def open_alerts(limit: int = 50) -> list[tuple[str, int, datetime]]:
    """(reference, volunteer id, alerted at) for alerts the volunteer has not answered, for coordinators."""
    rows = db.session.execute(
        select(HelpRequest.reference, VolunteerProgress.volunteer_id, VolunteerProgress.alerted_at)
        .join(HelpRequest, HelpRequest.id == VolunteerProgress.request_id)
        .where(VolunteerProgress.alerted_at.is_not(None), VolunteerProgress.answered_ok_at.is_(None))
        .order_by(VolunteerProgress.alerted_at.desc())
        .limit(limit)
    ).all()
    return [(ref, vid, at) for ref, vid, at in rows]


@atomic
def answer_ok(volunteer: Volunteer, reference: str, actor: Actor) -> None:
    """The volunteer says they are OK: the alert is closed and the history says so."""
    request = db.session.scalar(
        select(HelpRequest).where(HelpRequest.reference == reference, HelpRequest.volunteer_id == volunteer.id)
    )
    if request is None:
        raise NotFound("That task is not in your list")
    visits = db.session.scalars(
        select(VolunteerProgress).where(
            VolunteerProgress.request_id == request.id,
            VolunteerProgress.volunteer_id == volunteer.id,
            VolunteerProgress.alerted_at.is_not(None),
            VolunteerProgress.answered_ok_at.is_(None),
        )
    ).all()
    for visit in visits:
        visit.answered_ok_at = utcnow()
    if visits:
        record_event(
            request, actor, EventKind.LONE_WORKING, reason="The volunteer says they are OK", volunteer_id=volunteer.id
        )
    db.session.flush()


def clean_note(text: object) -> str | None:
    return clean_text(text if isinstance(text, str) else None, "reason", "reason", max_length=500) or None
