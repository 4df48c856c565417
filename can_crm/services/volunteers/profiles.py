"""Volunteer profiles: what coordinators manage and the matching engine reads."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from math import asin, cos, radians, sin, sqrt
from typing import Any

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.enums import SKILLS, DbsLevel, values
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import geocoding
from can_crm.services.common.errors import FieldErrors, NotFound, ValidationError
from can_crm.services.common.validation import (
    clean_choice,
    clean_email,
    clean_name,
    clean_phone,
    clean_postcode,
    clean_text,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOTS = ("morning", "afternoon", "evening")


def _number(value: object, field: str, label: str, low: float, high: float, integer: bool = False) -> float:
    if value is None or value == "":
        raise ValidationError(f"Enter {label}", field)
    if isinstance(value, bool):
        raise ValidationError(f"{label[0].upper()}{label[1:]} must be a number", field)
    try:
        number = float(value) if not integer else int(str(value).strip())
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number"
        raise ValidationError(f"{label[0].upper()}{label[1:]} must be {kind}", field) from None
    if not (low <= number <= high) or number != number:
        raise ValidationError(f"{label[0].upper()}{label[1:]} must be between {low:g} and {high:g}", field)
    return number


def _date(value: object, field: str, label: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{label[0].upper()}{label[1:]} must be a real date, like 2026-12-24", field) from None


def _skills(value: object) -> list[str]:
    if value in (None, ""):
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ValidationError("Skills must be a list of skill names", "skills")
    unknown = sorted(set(items) - set(SKILLS))
    if unknown:
        raise ValidationError(f"Unknown skill: {', '.join(unknown)}", "skills")
    return sorted(set(items))


def _availability(value: object) -> dict[str, list[str]]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("Availability must map days (mon to sun) to times of day", "availability")
    cleaned: dict[str, list[str]] = {}
    for day, slots in value.items():
        if day not in DAYS or not isinstance(slots, list) or any(s not in SLOTS for s in slots):
            raise ValidationError(
                "Availability must map days (mon to sun) to morning, afternoon or evening", "availability"
            )
        if slots:
            cleaned[day] = [s for s in SLOTS if s in slots]
    return cleaned


def _bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "n", "no", "false", "off", "0"):
        return False
    if value in ("y", "yes", "true", "on", "1"):
        return True
    raise ValidationError("Select yes or no", field)


_RULES: dict[str, Callable[[Any], Any]] = {
    "name": clean_name,
    "phone": lambda v: clean_phone(v) or None,
    "email": lambda v: clean_email(v) or None,
    "home_postcode": lambda v: geocoding.known_postcode(clean_postcode(v, "home_postcode"), "home_postcode"),
    "skills": _skills,
    "max_km": lambda v: _number(v, "max_km", "how far they travel (km)", 0.1, 100),
    "capacity": lambda v: int(_number(v, "capacity", "how many tasks at once", 1, 20, integer=True)),
    "dbs_level": lambda v: clean_choice(v or "none", values(DbsLevel), "dbs_level", "a DBS level"),
    "dbs_certificate_date": lambda v: _date(v, "dbs_certificate_date", "DBS certificate date"),
    "availability": _availability,
    "active": lambda v: _bool(v, "active"),
    "paused_until": lambda v: _date(v, "paused_until", "paused until"),
    "organisation": lambda v: clean_text(v, "organisation", "organisation", max_length=120) or None,
}


def clean_volunteer(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, rule in _RULES.items():
        if partial and field not in data:
            continue
        try:
            cleaned[field] = rule(data.get(field))
        except ValidationError as exc:
            errors[exc.field or field] = exc.message
    if cleaned.get("dbs_certificate_date") and cleaned["dbs_certificate_date"] > date.today():
        errors["dbs_certificate_date"] = "DBS certificate date must be today or in the past"
    if errors:
        raise FieldErrors(errors)
    return cleaned


def _apply(volunteer: Volunteer, cleaned: Mapping[str, Any]) -> None:
    for field, value in cleaned.items():
        setattr(volunteer, field, value)
    if "home_postcode" in cleaned:
        place = geocoding.locate(cleaned["home_postcode"])
        volunteer.lat, volunteer.lon = (place.lat, place.lon) if place else (None, None)
        volunteer.h3_fine, volunteer.h3_map = (place.h3_fine, place.h3_map) if place else (None, None)


def create_volunteer(data: Mapping[str, Any], user_id: int | None = None) -> Volunteer:
    cleaned = clean_volunteer(data)
    volunteer = Volunteer(user_id=user_id)
    _apply(volunteer, cleaned)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def update_volunteer(volunteer: Volunteer, data: Mapping[str, Any]) -> Volunteer:
    _apply(volunteer, clean_volunteer(data, partial=True))
    db.session.flush()
    return volunteer


def get_volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("No volunteer with that id")
    return volunteer


def list_volunteers(available_on: date | None = None) -> list[Volunteer]:
    rows = list(db.session.scalars(select(Volunteer).order_by(Volunteer.name, Volunteer.id)))
    if available_on is not None:
        rows = [v for v in rows if v.is_available(available_on)]
    return rows


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * 6371.0088 * asin(sqrt(a))


CANDIDATE_LIMIT = 25


@dataclass(frozen=True)
class Candidate:
    """A volunteer who could be assigned by hand, and how far away they are (None when either end is unplaced)."""

    id: int
    name: str
    max_km: float
    km: float | None


def candidates_for(lat: float | None, lon: float | None, today: date, limit: int = CANDIDATE_LIMIT) -> list[Candidate]:
    """The `limit` nearest volunteers who can be given work today; those without a place after, by name.

    A page offers these in a drop-down: thousands of options help nobody and cost a page render each, so only
    the nearest few are loaded as plain rows (the assign route still takes any volunteer's id).
    """
    # The same rule as Volunteer.is_available, in SQL, so unavailable rows never leave the database.
    available = (
        Volunteer.active.is_(True)
        & (Volunteer.paused_until.is_(None) | (Volunteer.paused_until < today))
        & (Volunteer.isolating_until.is_(None) | (Volunteer.isolating_until < today))
    )
    rows = db.session.execute(
        select(Volunteer.id, Volunteer.name, Volunteer.max_km, Volunteer.lat, Volunteer.lon)
        .where(available)
        .order_by(Volunteer.name, Volunteer.id)
    ).all()
    placed: list[Candidate] = []
    unplaced: list[Candidate] = []
    for vid, name, max_km, vlat, vlon in rows:
        if lat is not None and lon is not None and vlat is not None and vlon is not None:
            placed.append(Candidate(vid, name, max_km, round(distance_km(lat, lon, vlat, vlon), 1)))
        elif len(unplaced) < limit:
            unplaced.append(Candidate(vid, name, max_km, None))
    nearest = heapq.nsmallest(limit, placed, key=lambda c: (c.km, c.name, c.id))
    return (nearest + unplaced)[:limit]
