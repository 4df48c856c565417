"""Consent and lawful basis per purpose (with date and source), and Art. 22 human-review tasks."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import LawfulBasis, values
from can_crm.models.privacy import Consent, ReviewTask
from can_crm.models.resident import Resident
from can_crm.services.common import audit
from can_crm.services.common.errors import FieldErrors, NotFound, ValidationError
from can_crm.services.common.validation import clean_choice, clean_text
from can_crm.unit_of_work import atomic

PURPOSES = {
    "help_requests": "Arranging help with requests",
    "contact_updates": "Contacting the resident with updates",
    "sharing_partners": "Sharing details with a partner organisation",
    "feedback": "Asking for feedback afterwards",
}


@atomic
def record_consent(
    resident_id: int, purpose: str, lawful_basis: str, given: bool, source: str, user_id: int | None
) -> Consent:
    if db.session.get(Resident, resident_id) is None:
        raise NotFound("No resident with that id")
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    rules: tuple[tuple[str, Callable[[], str]], ...] = (
        ("purpose", lambda: clean_choice(purpose, list(PURPOSES), "purpose", "a purpose")),
        ("lawful_basis", lambda: clean_choice(lawful_basis, values(LawfulBasis), "lawful_basis", "a lawful basis")),
        ("source", lambda: clean_text(source, "source", "source", max_length=120, required=True)),
    )
    for field, rule in rules:
        try:
            cleaned[field] = rule()
        except ValidationError as exc:
            errors[field] = exc.message
    if errors:
        raise FieldErrors(errors)
    consent = Consent(
        resident_id=resident_id,
        purpose=cleaned["purpose"],
        lawful_basis=cleaned["lawful_basis"],
        given=given,
        source=cleaned["source"],
        recorded_by_id=user_id,
        recorded_at=utcnow(),
    )
    db.session.add(consent)
    db.session.flush()
    audit.record(user_id, "record_consent", "resident", resident_id)
    return consent


def consents_for(resident_id: int) -> list[Consent]:
    return list(db.session.scalars(select(Consent).where(Consent.resident_id == resident_id).order_by(Consent.id)))


@atomic
def open_review(
    resident_id: int, decision: str, grounds: str, user_id: int | None, request_id: int | None = None
) -> ReviewTask:
    """A resident asked for a person to review an automated decision (Art. 22): a tracked task."""
    if db.session.get(Resident, resident_id) is None:
        raise NotFound("No resident with that id")
    task = ReviewTask(
        resident_id=resident_id,
        request_id=request_id,
        decision=clean_text(decision, "decision", "decision", max_length=120, required=True),
        grounds=clean_text(grounds, "grounds", "grounds", max_length=2000) or "",
        created_by_id=user_id,
        created_at=utcnow(),
    )
    db.session.add(task)
    db.session.flush()
    audit.record(user_id, "open_review", "resident", resident_id)
    return task


@atomic
def resolve_review(task_id: int, outcome: str, user_id: int) -> ReviewTask:
    task = db.session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound("No review task with that id")
    if task.status != "open":
        raise ValidationError("This review is already resolved", "outcome")
    task.outcome = clean_text(outcome, "outcome", "outcome", max_length=2000, required=True)
    task.status = "resolved"
    task.resolved_at = utcnow()
    task.resolved_by_id = user_id
    if task.resident_id is not None:
        audit.record(user_id, "resolve_review", "resident", task.resident_id)
    return task


def open_reviews() -> list[ReviewTask]:
    return list(
        db.session.scalars(select(ReviewTask).where(ReviewTask.status == "open").order_by(ReviewTask.created_at))
    )


def reviews_for(resident_id: int) -> list[ReviewTask]:
    return list(
        db.session.scalars(select(ReviewTask).where(ReviewTask.resident_id == resident_id).order_by(ReviewTask.id))
    )
