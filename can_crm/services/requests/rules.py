"""The rules for a request's own fields (type, urgency, details, dates, skills), shared by intake, triage and
the API: each field refused with a message the person can act on, all fields checked before refusing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from can_crm.models.enums import SKILLS, DbsLevel, Recurrence, RequestType, values
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.common.validation import apply_rules, clean_choice, clean_text
from can_crm.services.requests.delivery import check_delivery


def clean_urgency(value: object) -> int:
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        raise ValidationError("Urgency must be 1 (routine), 2 (soon) or 3 (urgent)", "urgency")
    try:
        urgency = int(str(value).strip())
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


def clean_request(data: Mapping[str, Any], *, partial: bool = False, request_type: str | None = None) -> dict[str, Any]:
    """The request's own fields as columns, or FieldErrors with every field's message. A food parcel's
    parcels and delivery window are checked against its type (`request_type` when `type` is not sent)."""
    today = times.today()
    rules = {field: (lambda value, rule=rule: rule(value, today)) for field, rule in _REQUEST_RULES.items()}
    cleaned, errors = apply_rules(rules, data, partial=partial)
    kind = cleaned.get("type", request_type if partial else None)
    if "type" not in errors:
        delivery, problems = check_delivery(data, kind, partial=partial)
        cleaned.update(delivery)
        errors.update(problems)
    if errors:
        raise FieldErrors(errors)
    return cleaned
