"""Interactions: who met whom, when, for how long and where.

Visits come from the request history, never from prose: a `transition` event to `delivered` names the volunteer
in its `volunteer_id` column, and the matching `in_progress` event (when there is one) says when the visit
started. The lifecycle calls `record_visit` once, on delivery; `backfill_visits` derives the same rows for
deliveries made before tracing existed. Both are idempotent per request occurrence and volunteer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

from flask import current_app
from sqlalchemy import and_, select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import EventKind, RequestType, Status
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.tracing import Interaction, InteractionKind, Setting
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.common.validation import apply_rules, clean_choice, clean_text
from can_crm.services.tracing.people import Person, clean_person, parse_people
from can_crm.unit_of_work import atomic

# inside > doorstep > outside: the order contacts are ranked in, before duration.
SETTING_RANK = {Setting.INSIDE.value: 3, Setting.DOORSTEP.value: 2, Setting.OUTSIDE.value: 1}
SETTING_LABELS = {
    Setting.INSIDE.value: "Inside",
    Setting.DOORSTEP.value: "On the doorstep",
    Setting.OUTSIDE.value: "Outside",
}
KIND_LABELS = {
    InteractionKind.VISIT.value: "Delivery visit",
    InteractionKind.HOUSEHOLD.value: "Household member",
    InteractionKind.HUB_SHIFT.value: "Shift at the food hub",
    InteractionKind.BEFRIENDING.value: "Befriending visit",
    InteractionKind.OTHER.value: "Other meeting",
}
MAX_GROUP = 30  # a hub shift records every pair: 30 people are 435 interactions


def visit_setting(request_type: str, recorded: str | None = None) -> str:
    """Doorstep by default; inside for befriending, or when the volunteer or a coordinator recorded it."""
    if recorded in SETTING_RANK:
        return str(recorded)
    return Setting.INSIDE.value if request_type == RequestType.BEFRIENDING.value else Setting.DOORSTEP.value


def _visit_minutes(started: datetime | None, delivered: datetime) -> int:
    config = current_app.config
    if started is None or started >= delivered:
        return int(config["TRACING_VISIT_DEFAULT_MINUTES"])
    minutes = int((delivered - started).total_seconds() // 60)
    return max(1, min(minutes, int(config["TRACING_VISIT_MAX_MINUTES"])))


def _visit(
    request_id: int,
    resident_id: int,
    request_type: str,
    volunteer_id: int,
    started: datetime | None,
    delivered: datetime,
) -> Interaction:
    minutes = _visit_minutes(started, delivered)
    interaction = Interaction(
        volunteer_a_id=volunteer_id,
        resident_b_id=resident_id,
        occurred_at=delivered - timedelta(minutes=minutes),
        duration_minutes=minutes,
        setting=visit_setting(request_type),
        kind=InteractionKind.VISIT.value,
        request_id=request_id,
    )
    db.session.add(interaction)
    return interaction


def record_visit(request: HelpRequest, delivered_at: datetime | None = None) -> Interaction | None:
    """The visit behind a delivery (called by lifecycle.transition on `delivered`); the existing row if any."""
    volunteer_id = request.volunteer_id
    if volunteer_id is None:
        return None
    existing = db.session.scalar(
        select(Interaction).where(Interaction.request_id == request.id, Interaction.volunteer_a_id == volunteer_id)
    )
    if existing is not None:
        return existing
    started = db.session.scalar(
        select(RequestEvent.created_at)
        .where(
            RequestEvent.request_id == request.id,
            RequestEvent.kind == EventKind.TRANSITION.value,
            RequestEvent.to_status == Status.IN_PROGRESS.value,
            RequestEvent.volunteer_id == volunteer_id,
        )
        .order_by(RequestEvent.id.desc())
        .limit(1)
    )
    return _visit(request.id, request.resident_id, request.type, volunteer_id, started, delivered_at or utcnow())


def backfill_visits() -> int:
    """Derive the visits of past deliveries from the history; returns how many were added (0 on a rerun)."""
    delivered = db.session.execute(
        select(
            RequestEvent.request_id,
            RequestEvent.volunteer_id,
            RequestEvent.created_at,
            HelpRequest.resident_id,
            HelpRequest.type,
        )
        .join(HelpRequest, HelpRequest.id == RequestEvent.request_id)
        .outerjoin(
            Interaction,
            and_(
                Interaction.request_id == RequestEvent.request_id,
                Interaction.volunteer_a_id == RequestEvent.volunteer_id,
            ),
        )
        .where(
            RequestEvent.kind == EventKind.TRANSITION.value,
            RequestEvent.to_status == Status.DELIVERED.value,
            RequestEvent.volunteer_id.is_not(None),
            Interaction.id.is_(None),
        )
        .order_by(RequestEvent.id)
    ).all()
    if not delivered:
        return 0
    starts: dict[tuple[int, int], list[datetime]] = {}
    for request_id, volunteer_id, created_at in db.session.execute(
        select(RequestEvent.request_id, RequestEvent.volunteer_id, RequestEvent.created_at)
        .where(
            RequestEvent.request_id.in_({row.request_id for row in delivered}),
            RequestEvent.kind == EventKind.TRANSITION.value,
            RequestEvent.to_status == Status.IN_PROGRESS.value,
        )
        .order_by(RequestEvent.id)
    ):
        starts.setdefault((request_id, volunteer_id), []).append(created_at)
    seen: set[tuple[int, int]] = set()
    for row in delivered:
        pair = (row.request_id, row.volunteer_id)
        if pair in seen:
            continue
        seen.add(pair)
        started = max((s for s in starts.get(pair, []) if s <= row.created_at), default=None)
        _visit(row.request_id, row.resident_id, row.type, row.volunteer_id, started, row.created_at)
    db.session.flush()
    return len(seen)


def _clean_when(value: object, field: str) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationError("Enter when they met as a date and time, like 2026-11-03T14:30", field) from None
    when = times.from_wall_clock(when)  # a bare time from a form or client is the council's
    now = utcnow()
    if when > now + timedelta(minutes=5):
        raise ValidationError("When they met must be in the past", field)
    if when < now - timedelta(days=366):
        raise ValidationError("When they met must be within the last year", field)
    return when.astimezone(UTC)


def _clean_minutes(value: object, field: str = "duration_minutes") -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise ValidationError("Enter how many minutes they were together", field)
    try:
        minutes = int(str(value).strip())
    except ValueError:
        raise ValidationError("Minutes must be a whole number, like 15", field) from None
    if not 1 <= minutes <= 1440:
        raise ValidationError("Minutes must be between 1 and 1440", field)
    return minutes


def clean_interaction(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a manual interaction's fields (not the people), every field's message at once."""
    rules: dict[str, Any] = {
        "occurred_at": lambda v: _clean_when(v, "occurred_at"),
        "duration_minutes": _clean_minutes,
        "setting": lambda v: clean_choice(v, list(SETTING_RANK), "setting", "where they met"),
        "kind": lambda v: clean_choice(v or InteractionKind.OTHER.value, list(KIND_LABELS), "kind", "how they met"),
        "notes": lambda v: clean_text(v, "notes", "notes", max_length=1000) or None,
    }
    cleaned, errors = apply_rules(rules, data)
    if errors:
        raise FieldErrors(errors)
    return cleaned


@atomic
def record_interaction(data: Mapping[str, Any], user_id: int | None) -> Interaction:
    """A meeting a coordinator records: `person_a` and `person_b` ({"resident_id"} or {"volunteer_id"})."""
    errors: dict[str, str] = {}
    people: list[Person] = []
    for field in ("person_a", "person_b"):
        try:
            people.append(clean_person(data.get(field), field))
        except FieldErrors as exc:
            errors.update(exc.fields)
    cleaned: dict[str, Any] = {}
    try:
        cleaned = clean_interaction(data)
    except FieldErrors as exc:
        errors.update(exc.fields)
    if not errors and people[0] == people[1]:
        errors["person_b"] = "An interaction is between two different people"
    if errors:
        raise FieldErrors(errors)
    interaction = Interaction(**people[0].columns("_a"), **people[1].columns("_b"), recorded_by_id=user_id, **cleaned)
    db.session.add(interaction)
    db.session.flush()
    return interaction


def record_group(people: Sequence[Person], data: Mapping[str, Any], user_id: int | None) -> list[Interaction]:
    """Everyone at one hub shift or in one household met everyone else: one interaction per pair."""
    unique = sorted(set(people))
    if len(unique) < 2:
        raise FieldErrors({"people": "Choose at least two people"})
    if len(unique) > MAX_GROUP:
        raise FieldErrors({"people": f"Choose at most {MAX_GROUP} people"})
    cleaned = clean_interaction(data)
    rows = [
        Interaction(**a.columns("_a"), **b.columns("_b"), recorded_by_id=user_id, **cleaned)
        for a, b in combinations(unique, 2)
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


@atomic
def record_meeting(data: Mapping[str, Any], others: str | None, user_id: int | None) -> list[Interaction]:
    """The coordinator's form: two people, and optionally others who were there (a hub shift, a household)."""
    if not (others or "").strip():
        return [record_interaction(data, user_id)]
    errors: dict[str, str] = {}
    people: list[Person] = []
    for field in ("person_a", "person_b"):
        try:
            people.append(clean_person(data.get(field), field))
        except FieldErrors as exc:
            errors.update(exc.fields)
    try:
        people.extend(parse_people(others))
    except FieldErrors as exc:
        errors.update(exc.fields)
    try:
        clean_interaction(data)
    except FieldErrors as exc:
        errors.update(exc.fields)
    if errors:
        raise FieldErrors(errors)
    return record_group(people, data, user_id)
