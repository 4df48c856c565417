"""Volunteer profiles: what coordinators manage and the matching engine reads."""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from math import asin, cos, radians, sin, sqrt
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Date, Float, Row, Select, TextClause, bindparam, func, select, text
from sqlalchemy.orm import InstrumentedAttribute

from can_crm.extensions import db
from can_crm.models.enums import SKILLS, DbsLevel, OffersBy, Role, Transport, VolunteerStatus, values
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer, VolunteerHours
from can_crm.services.accounts import users as accounts
from can_crm.services.common import geocoding, times
from can_crm.services.common.errors import DomainError, FieldErrors, NotFound, ValidationError
from can_crm.services.common.paging import Page, page_count
from can_crm.services.common.sql import fixed, flat_distance, on_postgresql, parallel_scale, read
from can_crm.services.common.validation import (
    apply_rules,
    clean_bool,
    clean_choice,
    clean_email,
    clean_name,
    clean_phone,
    clean_postcode,
    clean_text,
    is_mobile,
)
from can_crm.services.volunteers import workload
from can_crm.unit_of_work import atomic

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOTS = ("morning", "afternoon", "evening")


def _number(value: object, field: str, label: str, low: float, high: float, integer: bool = False) -> float:
    if value is None or value == "":
        raise ValidationError(f"Enter {label}", field)
    if isinstance(value, bool):
        raise ValidationError(f"{label[0].upper()}{label[1:]} must be a number", field)
    try:
        number = float(str(value).strip()) if not integer else int(str(value).strip())
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


_RULES: dict[str, Callable[[Any], Any]] = {
    "name": clean_name,
    "phone": lambda v: clean_phone(v) or None,
    "email": lambda v: clean_email(v) or None,
    "home_postcode": lambda v: clean_postcode(v, "home_postcode"),
    "skills": _skills,
    "max_km": lambda v: _number(v, "max_km", "how far they travel (km)", 0.1, 100),
    "capacity": lambda v: int(_number(v, "capacity", "how many tasks at once", 1, 20, integer=True)),
    "max_per_day": lambda v: (
        None if v is None or v == "" else int(_number(v, "max_per_day", "the most tasks a day", 1, 20, integer=True))
    ),
    "dbs_level": lambda v: clean_choice(v or "none", values(DbsLevel), "dbs_level", "a DBS level"),
    "dbs_certificate_date": lambda v: _date(v, "dbs_certificate_date", "DBS certificate date"),
    "availability": _availability,
    "active": lambda v: clean_bool(v, "active"),
    "paused_until": lambda v: _date(v, "paused_until", "paused until"),
    "organisation": lambda v: clean_text(v, "organisation", "organisation", max_length=120) or None,
    "transport": lambda v: clean_choice(v, values(Transport), "transport", "how they travel") if v else None,
    "offers_by": lambda v: clean_choice(v or "web", values(OffersBy), "offers_by", "how offers reach them"),
    "dbs_certificate_number": lambda v: (
        clean_text(v, "dbs_certificate_number", "DBS certificate number", max_length=20) or None
    ),
}
# Fields a coordinator alone sets (vetting): a volunteer editing their own profile cannot send these.
COORDINATOR_ONLY = frozenset({"dbs_level", "dbs_certificate_date", "dbs_certificate_number", "active"})


def clean_volunteer(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    cleaned, errors = apply_rules(_RULES, data, partial=partial)
    if cleaned.get("dbs_certificate_date") and cleaned["dbs_certificate_date"] > times.today():
        errors["dbs_certificate_date"] = "DBS certificate date must be today or in the past"
    texts_without_mobile = not _reachable_by_text(cleaned.get("offers_by"), cleaned.get("phone"))
    if "phone" in data and "phone" not in errors and texts_without_mobile:
        errors["phone"] = NO_MOBILE_FOR_TEXTS
    if errors:
        raise FieldErrors(errors)
    return cleaned


NO_MOBILE_FOR_TEXTS = "Enter a mobile phone number, like 07911 123 456, to get offers by text message"


def _reachable_by_text(offers_by: str | None, phone: str | None) -> bool:
    """Offers by text message need a mobile number to send them to."""
    return offers_by != OffersBy.SMS.value or bool(phone and is_mobile(phone))


def _apply(volunteer: Volunteer, cleaned: Mapping[str, Any]) -> None:
    for field, value in cleaned.items():
        setattr(volunteer, field, value)
    # A change of one field alone (the API's PATCH) is checked against what the profile already holds.
    if not _reachable_by_text(volunteer.offers_by, volunteer.phone):
        raise FieldErrors({"phone" if "phone" in cleaned else "offers_by": NO_MOBILE_FOR_TEXTS})
    if "home_postcode" in cleaned:
        place = geocoding.locate(cleaned["home_postcode"])
        volunteer.lat, volunteer.lon = (place.lat, place.lon) if place else (None, None)
        volunteer.h3_fine, volunteer.h3_map = (place.h3_fine, place.h3_map) if place else (None, None)


@atomic
def create_volunteer(
    data: Mapping[str, Any], user_id: int | None = None, status: VolunteerStatus = VolunteerStatus.PENDING
) -> Volunteer:
    """A new profile; it waits for vetting (nothing is offered to it) unless `status` says otherwise."""
    cleaned = clean_volunteer(data)
    volunteer = Volunteer(user_id=user_id, status=status.value)
    _apply(volunteer, cleaned)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


@atomic
def update_volunteer(volunteer: Volunteer, data: Mapping[str, Any]) -> Volunteer:
    _apply(volunteer, clean_volunteer(data, partial=True))
    db.session.flush()
    return volunteer


def empty_profile(user: User) -> Volunteer:
    """The profile of a volunteer account made by `create-user`: waiting for vetting, filled in by the volunteer."""
    volunteer = Volunteer(
        user_id=user.id, name=user.name, email=user.email, home_postcode="", status=VolunteerStatus.PENDING.value
    )
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def for_user(user: User) -> Volunteer | None:
    """The account's volunteer profile (loaded with the signed-in user, so no further query)."""
    return user.volunteer


def require_for_user(user: User) -> Volunteer:
    """The signed-in volunteer's profile; an account without one has nothing to see."""
    volunteer = for_user(user)
    if volunteer is None:
        raise NotFound("Your account has no volunteer profile yet: ask a coordinator")
    return volunteer


def user_of(user_id: int | None) -> User:
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound("No such account")
    return user


def by_email(email: str) -> Volunteer | None:
    return db.session.scalar(select(Volunteer).where(Volunteer.email == email).order_by(Volunteer.id).limit(1))


def get_volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("No volunteer with that id")
    return volunteer


VOLUNTEERS_PER_PAGE = 50


def volunteers_page(
    status: object = None,
    page: int = 1,
    per_page: int = VOLUNTEERS_PER_PAGE,
    *,
    email: str | None = None,
    clamp: bool = True,
) -> Page[Volunteer]:
    """One page of the volunteers, by name, optionally of one vetting status or one exact email (a council has
    thousands: the coordinators' page lists 50 at a time, the API 25 by default). An unknown status is refused
    with a message. A page past the end is the last one with `clamp` (a person's page), else empty (the API:
    a client that pages until nothing comes back stops)."""
    if status not in (None, "") and status not in values(VolunteerStatus):
        raise FieldErrors({"status": "Choose a status from the list"})
    query = select(Volunteer)
    if status:
        query = query.where(Volunteer.status == status)
    if email is not None:
        query = query.where(Volunteer.email == email)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(1, page), page_count(total, per_page)) if clamp else max(1, page)
    rows = db.session.scalars(
        query.order_by(Volunteer.name, Volunteer.id).limit(per_page).offset((page - 1) * per_page)
    )
    return Page(list(rows), total, page, per_page)


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
    speaks_language: bool = False  # they have the "Speaks ..." skill of the resident's language
    at_limit: str | None = None  # which of their own limits they are at ("2 at once"), when one is reached
    by_text: bool = False  # offers reach them by text message


def language_skill(language: str | None) -> str | None:
    """The "Speaks ..." skill of a resident's language ("Polish" -> language_polish), if there is one."""
    key = "language_" + "_".join((language or "").casefold().split())
    return key if key in SKILLS else None


# On PostgreSQL the available volunteers are read nearest first from ix_volunteers_place (migration 0021): a GiST
# index on this expression, over the rows `available & has_place` selects, walked in order of distance.
PLACE_SCALE = 0.6
_PLACE_SQL = f"point(volunteers.lon * {PLACE_SCALE}, volunteers.lat) <-> point(:place_x, :place_y)"


@functools.cache
def _nearest_statement(postgresql: bool, limit: int) -> Select[Any]:
    """The `limit` available volunteers with a place nearest a point, built once per process (the request page
    reads it on every view of a triaged request): `today`, and the point (`place_x` and `place_y` on PostgreSQL,
    `lat`, `lon` and its `scale` elsewhere), are parameters of each execution. By the place index on PostgreSQL
    (its longitude scale, the cosine of Great Britain's middle latitude, is close enough to pick the nearest few:
    twice as many are read and the exact distance decides), by the flat-earth distance elsewhere."""
    order: tuple[ColumnElement[Any] | TextClause | InstrumentedAttribute[int], ...]
    if postgresql:
        order = (text(_PLACE_SQL),)
    else:
        point = (bindparam("lat", type_=Float), bindparam("lon", type_=Float), bindparam("scale", type_=Float))
        order = (flat_distance(Volunteer.lat, Volunteer.lon, *point), Volunteer.id)
    return (
        select(*_CANDIDATE_COLUMNS)
        .where(_available(bindparam("today", type_=Date)) & _HAS_PLACE)
        .order_by(*order)
        .limit(limit)
    )


def _nearest_values(postgresql: bool, lat: float, lon: float, today: date) -> dict[str, Any]:
    if postgresql:
        return {"place_x": lon * PLACE_SCALE, "place_y": lat, "today": today}
    return {"lat": lat, "lon": lon, "scale": parallel_scale(lat), "today": today}


def _available(today: date | BindParameter[date]) -> ColumnElement[bool]:
    """The same rule as Volunteer.is_available, in SQL, so unavailable rows never leave the database."""
    return (
        Volunteer.active.is_(True)
        & (Volunteer.status == fixed(VolunteerStatus.ACTIVE.value))
        & (Volunteer.paused_until.is_(None) | (Volunteer.paused_until < today))
        & (Volunteer.isolating_until.is_(None) | (Volunteer.isolating_until < today))
    )


_CANDIDATE_COLUMNS = (
    Volunteer.id,
    Volunteer.name,
    Volunteer.max_km,
    Volunteer.lat,
    Volunteer.lon,
    Volunteer.skills,
    Volunteer.capacity,
    Volunteer.max_per_day,
    Volunteer.offers_by,
)
_HAS_PLACE = Volunteer.lat.is_not(None) & Volunteer.lon.is_not(None)


def candidates_for(
    lat: float | None, lon: float | None, today: date, limit: int = CANDIDATE_LIMIT, language: str | None = None
) -> list[Candidate]:
    """The `limit` nearest volunteers who can be given work today; those without a place after, by name. With
    the resident's `language`, each says whether they have its "Speaks ..." skill.

    A page offers these in a drop-down: thousands of options help nobody and cost a page render each, so only
    the nearest few leave the database, as plain rows (the assign route still takes any volunteer's id). The
    database orders by a flat-earth distance (exact enough to pick the nearest few km); twice as many as needed
    are read, so the exact great-circle distance, rounded as shown, then the name, decide the order shown.
    """
    available = _available(today)
    placed: list[Row[Any]] = []
    km: dict[int, float] = {}
    if lat is not None and lon is not None:
        postgresql = on_postgresql()
        near = read(_nearest_statement(postgresql, 2 * limit), _nearest_values(postgresql, lat, lon, today)).all()
        km = {row.id: round(distance_km(lat, lon, row.lat, row.lon), 1) for row in near}
        placed = heapq.nsmallest(limit, near, key=lambda row: (km[row.id], row.name, row.id))
    unplaced: list[Row[Any]] = []
    if len(placed) < limit:
        # Without a place for the request, every volunteer is listed by name; with one, those without a place.
        unplaced = list(
            read(
                select(*_CANDIDATE_COLUMNS)
                .where(available if lat is None or lon is None else available & ~_HAS_PLACE)
                .order_by(Volunteer.name, Volunteer.id)
                .limit(limit - len(placed))
            ).all()
        )
    chosen = placed + unplaced
    # Each says when they are at one of their own limits: assigning them would be refused (as matching refuses).
    load = workload.loads(chosen)
    skill = language_skill(language)
    return [
        Candidate(
            row.id,
            row.name,
            row.max_km,
            km.get(row.id),
            speaks_language=skill is not None and skill in (row.skills or []),
            at_limit=_limit_words(row, load.get(row.id, workload.Load())),
            by_text=row.offers_by == OffersBy.SMS.value,
        )
        for row in chosen
    ]


def _limit_words(volunteer: workload.Limited, load: workload.Load) -> str | None:
    limit = load.limit_reached(volunteer)
    if limit == workload.Limit.AT_ONCE:
        return f"{volunteer.capacity} at once"
    if limit == workload.Limit.TODAY:
        return f"{volunteer.max_per_day} today"
    return None


@atomic
def create_or_link(data: Mapping[str, Any]) -> Volunteer:
    """A coordinator adds a volunteer (waiting for vetting). A volunteer account with the same email is linked;
    if it already has a profile (e.g. the empty one `create-user` made), that profile is filled in instead."""
    # What the API may leave out gets the model's defaults (3 km, one task at once).
    defaults = {"active": True, "max_km": 3, "capacity": 1}
    cleaned = clean_volunteer({**defaults, **{k: v for k, v in data.items() if v is not None}})
    user = None
    if cleaned.get("email"):
        user = db.session.scalar(select(User).where(User.email == cleaned["email"], User.role == Role.VOLUNTEER.value))
    existing = for_user(user) if user is not None else None
    if existing is not None:
        _apply(existing, cleaned)
        db.session.flush()
        return existing
    volunteer = Volunteer(user_id=user.id if user else None, status=VolunteerStatus.PENDING.value)
    _apply(volunteer, cleaned)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


@atomic
def sign_up(data: Mapping[str, Any], email: str | None, password: str | None, *, invited: bool = False) -> Volunteer:
    """A volunteer account and its profile, waiting for vetting (nothing is offered before).

    Public sign-up chooses the password now; a partner organisation adding one of its people signs them up
    `invited` (no password: they choose one through an invitation). The same rules and messages either way."""
    errors: dict[str, str] = {}
    try:
        cleaned = clean_volunteer({"active": True, **data})
    except FieldErrors as exc:
        errors.update(exc.fields)
        cleaned = {}
    try:
        user = accounts.create_user(
            email or "", str(data.get("name") or "Volunteer"), Role.VOLUNTEER.value, None if invited else password or ""
        )
    except FieldErrors as exc:
        errors.update({k: v for k, v in exc.fields.items() if k in ("email", "password")})
        user = None
    except DomainError as exc:  # the email is taken
        errors[exc.field or "email"] = exc.message
        user = None
    if errors or user is None:
        raise FieldErrors(errors)
    volunteer = Volunteer(user_id=user.id, status=VolunteerStatus.PENDING.value)
    _apply(volunteer, {**cleaned, "email": user.email})
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


@atomic
def update_own(volunteer: Volunteer, data: Mapping[str, Any]) -> Volunteer:
    """A volunteer edits their own profile: never their vetting, DBS or status."""
    allowed = {k: v for k, v in data.items() if k in _RULES and k not in COORDINATOR_ONLY}
    cleaned = clean_volunteer(allowed, partial=True)
    if cleaned.get("paused_until") and cleaned["paused_until"] < times.today():
        raise FieldErrors({"paused_until": "Not available until must be today or in the future"})
    _apply(volunteer, cleaned)
    db.session.flush()
    return volunteer


@atomic
def leave(volunteer: Volunteer) -> None:
    """The volunteer leaves: nothing more is offered. Their personal data then follows the retention rules."""
    volunteer.status = VolunteerStatus.LEFT.value
    volunteer.active = False
    db.session.flush()


@atomic
def log_hours(volunteer: Volunteer, worked_on: object, minutes: object) -> VolunteerHours:
    errors: dict[str, str] = {}
    day = None
    try:
        day = _date(worked_on, "worked_on", "day")
        if day is None:
            raise ValidationError("Enter the day you volunteered", "worked_on")
        if day > times.today():
            raise ValidationError("The day must be today or in the past", "worked_on")
    except ValidationError as exc:
        errors["worked_on"] = exc.message
    count = 0
    try:
        count = int(_number(minutes, "minutes", "minutes", 1, 1440, integer=True))
    except ValidationError as exc:
        errors["minutes"] = exc.message
    if errors or day is None:
        raise FieldErrors(errors)
    row = VolunteerHours(volunteer_id=volunteer.id, worked_on=day, minutes=count)
    db.session.add(row)
    db.session.flush()
    return row


def total_minutes(volunteer: Volunteer) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(VolunteerHours.minutes), 0)).where(
                VolunteerHours.volunteer_id == volunteer.id
            )
        )
        or 0
    )
