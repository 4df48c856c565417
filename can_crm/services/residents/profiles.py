"""Residents: validated create and update, shared by the web forms and the API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.enums import LOCALES, ContactChannel, LawfulBasis, LocationSource, values
from can_crm.models.resident import Resident
from can_crm.services.common import areas, geocoding
from can_crm.services.common.errors import FieldErrors, NotFound, ValidationError
from can_crm.services.common.validation import (
    apply_rules,
    clean_bool,
    clean_choice,
    clean_email,
    clean_name,
    clean_nhs_number,
    clean_phone,
    clean_postcode,
    clean_text,
)
from can_crm.services.residents import request_location
from can_crm.unit_of_work import atomic

_RULES: dict[str, Callable[[Any], Any]] = {
    "name": clean_name,
    "address_line1": lambda v: clean_text(v, "address_line1", "address line 1", max_length=120, required=True),
    "address_line2": lambda v: clean_text(v, "address_line2", "address line 2", max_length=120) or None,
    "town": lambda v: clean_text(v, "town", "town or city", max_length=60) or None,
    "postcode": lambda v: clean_postcode(v),
    "phone": lambda v: clean_phone(v) or None,
    "email": lambda v: clean_email(v) or None,
    "preferred_channel": lambda v: clean_choice(
        v or ContactChannel.PHONE.value, values(ContactChannel), "preferred_channel", "how we should contact you"
    ),
    "language": lambda v: clean_text(v, "language", "language", max_length=40) or "English",
    # The language of every message we send them (the form's language unless they choose another).
    "locale": lambda v: clean_choice(v or "en", list(LOCALES), "locale", "the language for our messages"),
    "accessibility_needs": lambda v: (
        clean_text(v, "accessibility_needs", "accessibility needs", max_length=1000) or None
    ),
    "vulnerabilities": lambda v: clean_text(v, "vulnerabilities", "needs and vulnerabilities", max_length=2000) or None,
    "nhs_number": lambda v: clean_nhs_number(v) or None,
    "shielding": lambda v: clean_bool(v, "shielding"),
    "consent_given": lambda v: clean_bool(v, "consent_given"),
    "lawful_basis": lambda v: clean_choice(
        v or LawfulBasis.PUBLIC_TASK.value, values(LawfulBasis), "lawful_basis", "the lawful basis"
    ),
}


def clean_resident(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate every resident field present, collecting all the errors before refusing."""
    cleaned, errors = apply_rules(_RULES, data, partial=partial)
    if not errors and not partial:
        errors.update(_contact_errors(cleaned["preferred_channel"], cleaned["phone"], cleaned["email"]))
    if errors:
        raise FieldErrors(errors)
    return cleaned


def _contact_errors(channel: str, phone: str | None, email: str | None) -> dict[str, str]:
    """The preferred channel needs its detail: a phone number for phone or sms, an address for email."""
    if channel in ("phone", "sms") and not phone:
        return {"phone": "Enter a phone number, or choose another way for us to contact you"}
    if channel == "email" and not email:
        return {"email": "Enter an email address, or choose another way for us to contact you"}
    return {}


def _place(resident: Resident, place: geocoding.Place | None, source: LocationSource | None) -> None:
    resident.lat, resident.lon = (place.lat, place.lon) if place else (None, None)
    resident.ward_code = place.ward_code if place else None
    resident.authority_code = place.authority_code if place else None
    resident.h3_fine, resident.h3_map = (place.h3_fine, place.h3_map) if place else (None, None)
    resident.location_source = source.value if place and source else None
    # Their requests carry a copy (Nearby searches it); a resident not yet saved has none.
    request_location.follow([resident.id])


def _apply(resident: Resident, cleaned: Mapping[str, Any]) -> None:
    for field, value in cleaned.items():
        setattr(resident, field, value)
    if "postcode" in cleaned:
        # A real postcode the directory does not list yet leaves the location unknown: accepted and flagged.
        _place(resident, geocoding.locate(cleaned["postcode"]), LocationSource.POSTCODE)


def build_checked(cleaned: Mapping[str, Any], created_by_id: int | None) -> Resident:
    """A resident from fields `clean_resident` already accepted, added to the session but not flushed (bulk
    imports flush many at once)."""
    resident = Resident(created_by_id=created_by_id)
    _apply(resident, cleaned)
    db.session.add(resident)
    return resident


def create_checked(cleaned: Mapping[str, Any], created_by_id: int | None) -> Resident:
    """A resident from fields `clean_resident` already accepted (intake validates once)."""
    resident = build_checked(cleaned, created_by_id)
    db.session.flush()
    return resident


def build_resident(data: Mapping[str, Any], created_by_id: int | None) -> Resident:
    """A validated resident added to the session, not yet flushed."""
    return build_checked(clean_resident(data), created_by_id)


def create_resident(data: Mapping[str, Any], created_by_id: int | None) -> Resident:
    return create_checked(clean_resident(data), created_by_id)


# Great Britain and Northern Ireland, generously: coordinates outside are a typing mistake.
_LAT_RANGE, _LON_RANGE = (49.8, 60.95), (-8.7, 1.8)


def _coordinate(value: object, field: str, label: str, bounds: tuple[float, float]) -> float:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValidationError(f"Enter the {label}", field)
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(f"The {label} must be a number, like {bounds[0] + 1:.4f}", field) from None
    if not bounds[0] <= number <= bounds[1] or number != number:
        raise ValidationError(f"The {label} must be between {bounds[0]} and {bounds[1]}", field)
    return number


@atomic
def set_location(resident: Resident, data: Mapping[str, Any]) -> LocationSource:
    """A coordinator places a resident whose postcode the directory does not list: from a nearby postcode the
    directory knows (`nearby_postcode`), or from coordinates (`lat`, `lon`). Returns how it was set."""
    nearby = data.get("nearby_postcode")
    has_coordinates = any(data.get(k) not in (None, "") for k in ("lat", "lon"))
    if nearby not in (None, "") and has_coordinates:
        raise FieldErrors({"nearby_postcode": "Enter a nearby postcode or coordinates, not both"})
    if nearby not in (None, ""):
        try:
            place = geocoding.known_place(clean_postcode(str(nearby), "nearby_postcode"), "nearby_postcode")
        except ValidationError as exc:
            raise FieldErrors({exc.field or "nearby_postcode": exc.message}) from None
        _place(resident, place, LocationSource.NEARBY_POSTCODE)
        db.session.flush()
        return LocationSource.NEARBY_POSTCODE
    if not has_coordinates:
        raise FieldErrors({"nearby_postcode": "Enter a nearby postcode, or the latitude and longitude"})
    errors: dict[str, str] = {}
    coordinates: dict[str, float] = {}
    for field, label, bounds in (("lat", "latitude", _LAT_RANGE), ("lon", "longitude", _LON_RANGE)):
        try:
            coordinates[field] = _coordinate(data.get(field), field, label, bounds)
        except ValidationError as exc:
            errors[field] = exc.message
    if errors:
        raise FieldErrors(errors)
    authority = areas.authority_at(coordinates["lat"], coordinates["lon"])
    _place(resident, geocoding.place_at(coordinates["lat"], coordinates["lon"], authority), LocationSource.COORDINATES)
    db.session.flush()
    return LocationSource.COORDINATES


@atomic
def update_resident(resident: Resident, data: Mapping[str, Any]) -> Resident:
    cleaned = clean_resident(data, partial=True)
    # A partial update must still leave a way to reach the resident by their preferred channel.
    contact = _contact_errors(
        cleaned.get("preferred_channel", resident.preferred_channel),
        cleaned.get("phone", resident.phone),
        cleaned.get("email", resident.email),
    )
    if contact:
        raise FieldErrors(contact)
    _apply(resident, cleaned)
    db.session.flush()
    return resident


def get_resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise NotFound("No resident with that id")
    return resident


def list_residents(page: int, per_page: int, search: str | None = None) -> tuple[list[Resident], int]:
    query = select(Resident)
    if search:
        like = f"%{search.strip()}%"
        query = query.where(Resident.name.ilike(like) | Resident.postcode.ilike(like))
    total = db.session.scalar(select(db.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(Resident.id).limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total
