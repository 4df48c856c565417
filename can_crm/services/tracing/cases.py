"""Cases and their contacts: record a case, list who it met (kept as contact rows with a status), Test and
Trace ids, and the retention of case data. Every read of a case or its contacts is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.tracing import (
    Case,
    ContactMessage,
    ContactStatus,
    Interaction,
    OnsetKind,
    TraceContact,
    TraceIdentity,
)
from can_crm.services.common import audit, times
from can_crm.services.common.errors import FieldErrors, NotFound, ValidationError
from can_crm.services.common.validation import clean_choice
from can_crm.services.tracing.people import Person, clean_person, from_columns
from can_crm.services.tracing.trace import TracedContact, Window, trace
from can_crm.unit_of_work import atomic


def window() -> Window:
    config = current_app.config
    return Window(int(config["TRACING_DAYS_BEFORE"]), int(config["TRACING_DAYS_AFTER"]))


def person_of(row: Case | TraceContact) -> Person:
    return from_columns(row.resident_id, row.volunteer_id)


def clean_date(value: object, field: str, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError(f"{label} must be a real date, like 2026-11-03", field) from None


@atomic
def create_case(data: Mapping[str, Any], user_id: int | None) -> Case:
    """`{"resident_id" | "volunteer_id", "onset": "YYYY-MM-DD", "onset_kind"?}`; every field's message at once."""
    errors: dict[str, str] = {}
    person: Person | None = None
    try:
        person = clean_person(data, "")
    except FieldErrors as exc:
        errors.update(exc.fields)
    onset: date | None = None
    today = times.today()
    try:
        onset = clean_date(data.get("onset"), "onset", "Onset")
        if onset > today:
            raise ValidationError("Onset must be today or in the past", "onset")
        if onset < today - timedelta(days=int(current_app.config["TRACING_RETENTION_DAYS"])):
            raise ValidationError("Onset is older than the case records are kept", "onset")
    except ValidationError as exc:
        errors["onset"] = exc.message
    kind = OnsetKind.SYMPTOMS.value
    try:
        kind = clean_choice(
            data.get("onset_kind") or kind, [k.value for k in OnsetKind], "onset_kind", "symptoms or test"
        )
    except ValidationError as exc:
        errors["onset_kind"] = exc.message
    if errors or person is None or onset is None:
        raise FieldErrors(errors)
    case = Case(**person.columns(), onset=onset, onset_kind=kind, recorded_by_id=user_id, created_at=utcnow())
    db.session.add(case)
    db.session.flush()
    audit.record(user_id, "create_case", "tracing_case", case.id)
    return case


def get_case(case_id: int, user_id: int | None) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("No case with that id")
    audit.record(user_id, "view_case", "tracing_case", case.id)
    return case


def list_cases(user_id: int | None, limit: int = 100) -> list[Case]:
    cases = list(db.session.scalars(select(Case).order_by(Case.onset.desc(), Case.id.desc()).limit(limit)))
    for case in cases:
        audit.record(user_id, "list_case", "tracing_case", case.id)
    return cases


@dataclass(frozen=True)
class ContactView:
    row: TraceContact
    traced: TracedContact


def release_expired(rows: list[TraceContact], today: date) -> None:
    """Isolation ends by itself: the day after `isolating_until`, the contact is released."""
    for row in rows:
        if row.status == ContactStatus.ISOLATING.value and row.isolating_until and row.isolating_until < today:
            row.status = ContactStatus.RELEASED.value


def contacts_of(case: Case, degree: int, user_id: int | None) -> list[ContactView]:
    """The case's contacts to `degree`, ranked; each traced person is kept as a contact row (new ones are
    'to notify'), so a status can be set on it. The view is audited per contact."""
    if degree not in (1, 2):
        raise ValidationError("degree must be 1 or 2", "degree")
    traced = trace(person_of(case), case.onset, degree, window())
    existing = {
        row.person_key: row for row in db.session.scalars(select(TraceContact).where(TraceContact.case_id == case.id))
    }
    now = utcnow()
    views: list[ContactView] = []
    for contact in traced:
        row = existing.get(contact.person.key)
        if row is None:
            row = TraceContact(case_id=case.id, **contact.person.columns(), status=ContactStatus.TO_NOTIFY.value)
            db.session.add(row)
        row.degree = contact.degree
        row.exposure = contact.exposure
        row.exposure_minutes = contact.minutes
        row.first_exposed_at = contact.first_exposed_at
        views.append(ContactView(row, contact))
    release_expired([v.row for v in views], times.today(now))
    db.session.flush()
    audit.record(user_id, "view_contacts", "tracing_case", case.id)
    for view in views:
        audit.record(user_id, "view_contact", "tracing_contact", view.row.id)
    return views


def get_contact(contact_id: int) -> TraceContact:
    contact = db.session.get(TraceContact, contact_id)
    if contact is None:
        raise NotFound("No contact with that id")
    return contact


def clean_person_ref(kind: str, person_id: int) -> Person:
    """The person a page URL names (/people/<kind>/<id>), or the same 404 whatever is wrong."""
    if kind in ("resident", "volunteer"):
        try:
            return clean_person({f"{kind}_id": person_id}, "")
        except FieldErrors:
            pass
    raise NotFound("No such person")


def _clean_tt_id(value: object) -> str:
    text = "".join(ch for ch in str(value or "").upper() if ch not in " -")
    if not text:
        raise ValidationError("Enter the NHS Test and Trace id", "test_and_trace_id")
    if not (4 <= len(text) <= 20 and text.isascii() and text.isalnum()):
        raise ValidationError("The NHS Test and Trace id must be 4 to 20 letters and numbers", "test_and_trace_id")
    return text


@atomic
def set_test_and_trace_id(person: Person, value: object, user_id: int | None) -> TraceIdentity:
    try:
        cleaned = _clean_tt_id(value)
    except ValidationError as exc:
        raise FieldErrors({"test_and_trace_id": exc.message}) from None
    column = TraceIdentity.resident_id if person.resident_id else TraceIdentity.volunteer_id
    identity = db.session.scalar(select(TraceIdentity).where(column == person.id))
    if identity is None:
        identity = TraceIdentity(**person.columns(), test_and_trace_id=cleaned, recorded_by_id=user_id)
        db.session.add(identity)
    identity.test_and_trace_id = cleaned
    identity.recorded_by_id = user_id
    db.session.flush()
    audit.record(user_id, "set_test_and_trace_id", person.kind, person.id)
    return identity


def test_and_trace_ids(people: list[Person]) -> dict[Person, str]:
    residents = [p.id for p in people if p.resident_id]
    volunteers = [p.id for p in people if p.volunteer_id]
    rows = db.session.scalars(
        select(TraceIdentity).where(
            TraceIdentity.resident_id.in_(residents) | TraceIdentity.volunteer_id.in_(volunteers)
        )
    )
    return {from_columns(r.resident_id, r.volunteer_id): r.test_and_trace_id for r in rows}


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Delete tracing data older than TRACING_RETENTION_DAYS (its own schedule: the data-protection jobs call
    this). Cases go with their contacts; interactions, messages and Test and Trace ids by their own dates."""
    cutoff = (now or utcnow()) - timedelta(days=int(current_app.config["TRACING_RETENTION_DAYS"]))
    counts: dict[str, int] = {}
    for name, statement in (
        ("cases", delete(Case).where(Case.created_at < cutoff)),
        ("interactions", delete(Interaction).where(Interaction.occurred_at < cutoff)),
        ("messages", delete(ContactMessage).where(ContactMessage.created_at < cutoff)),
        ("identities", delete(TraceIdentity).where(TraceIdentity.updated_at < cutoff)),
    ):
        counts[name] = int(db.session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0)  # type: ignore[attr-defined]
    return counts
