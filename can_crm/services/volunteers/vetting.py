"""Vetting: a coordinator records the checks and approves (the volunteer becomes `active`) or rejects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import DbsLevel, VolunteerStatus
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.common.validation import clean_choice, clean_text
from can_crm.services.volunteers import profiles
from can_crm.unit_of_work import atomic

APPROVED = "approved"
REJECTED = "rejected"
EXPIRY_WARNING_DAYS = 30


def dbs_valid_days() -> int:
    return int(current_app.config["DBS_VALID_DAYS"])


def dbs_expires_on(volunteer: Volunteer) -> date | None:
    if volunteer.dbs_level == DbsLevel.NONE.value or volunteer.dbs_certificate_date is None:
        return None
    return volunteer.dbs_certificate_date + timedelta(days=dbs_valid_days())


def effective_dbs_level(volunteer: Volunteer, today: date) -> str:
    """The DBS level that counts today: an expired check counts as none, so it stops new offers that need it."""
    expires = dbs_expires_on(volunteer)
    if volunteer.dbs_level != DbsLevel.NONE.value and volunteer.dbs_certificate_date is None:
        return volunteer.dbs_level  # recorded before certificate dates were kept: trusted as entered
    if expires is not None and expires < today:
        return DbsLevel.NONE.value
    return volunteer.dbs_level or DbsLevel.NONE.value


@dataclass(frozen=True)
class CheckFlag:
    volunteer_id: int
    expires_on: date
    expired: bool


def expiring_checks(volunteers: list[Volunteer], today: date) -> dict[int, CheckFlag]:
    """Checks that have expired or expire within 30 days, by volunteer id, for the volunteers page."""
    flags: dict[int, CheckFlag] = {}
    for volunteer in volunteers:
        expires = dbs_expires_on(volunteer)
        if expires is not None and expires <= today + timedelta(days=EXPIRY_WARNING_DAYS):
            flags[volunteer.id] = CheckFlag(volunteer.id, expires, expires < today)
    return flags


def _flag(value: object, field: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ValidationError("Must be true or false", field)


@atomic
def vet(volunteer: Volunteer, data: Mapping[str, Any], coordinator_id: int | None) -> Volunteer:
    """Record a vetting decision. Approving needs a located home postcode and the identity seen;
    rejecting needs a reason. The checks sent with the decision are recorded too."""
    errors: dict[str, str] = {}
    try:
        decision = clean_choice(data.get("decision"), [APPROVED, REJECTED], "decision", "approved or rejected")
    except ValidationError as exc:
        errors["decision"] = exc.message
        decision = ""
    try:
        reason = clean_text(data.get("reason"), "reason", "reason", max_length=2000) or None
    except ValidationError as exc:
        errors["reason"] = exc.message
        reason = None
    checks: dict[str, Any] = {}
    for field in ("identity_checked", "references_checked", "training_done"):
        if field in data:
            try:
                checks[field] = _flag(data[field], field)
            except ValidationError as exc:
                errors[field] = exc.message
    dbs = {k: data[k] for k in ("dbs_level", "dbs_certificate_date", "dbs_certificate_number") if k in data}
    if dbs:
        try:
            checks.update(profiles.clean_volunteer(dbs, partial=True))
        except FieldErrors as exc:
            errors.update(exc.fields)
    if errors:
        raise FieldErrors(errors)
    if decision == REJECTED and not reason:
        raise FieldErrors({"reason": "Give a reason for rejecting the volunteer"})
    for field, value in checks.items():
        setattr(volunteer, field, value)
    if decision == APPROVED:
        if not volunteer.home_postcode or volunteer.lat is None:
            raise FieldErrors({"decision": "The volunteer's home postcode is missing: it is needed to offer work"})
        if not volunteer.identity_checked:
            raise FieldErrors({"identity_checked": "Confirm you have seen the volunteer's identity"})
        volunteer.status = VolunteerStatus.ACTIVE.value
    else:
        volunteer.status = VolunteerStatus.REJECTED.value
    volunteer.vetting_reason = reason
    volunteer.vetted_at = utcnow()
    volunteer.vetted_by_id = coordinator_id
    db.session.flush()
    return volunteer


def waiting(limit: int = 200) -> list[Volunteer]:
    query = select(Volunteer).where(Volunteer.status == VolunteerStatus.PENDING.value).order_by(Volunteer.created_at)
    return list(db.session.scalars(query.limit(limit)))
