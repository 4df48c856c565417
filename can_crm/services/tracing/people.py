"""A person in tracing is a resident or a volunteer. The integer key (resident r -> 2r, volunteer v -> 2v + 1)
is the generated `*_key` column of the tracing tables; these helpers convert both ways and load names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import FieldErrors

RESIDENT = "resident"
VOLUNTEER = "volunteer"


@dataclass(frozen=True, order=True)
class Person:
    kind: str  # RESIDENT or VOLUNTEER
    id: int

    @property
    def key(self) -> int:
        return self.id * 2 + (1 if self.kind == VOLUNTEER else 0)

    @property
    def resident_id(self) -> int | None:
        return self.id if self.kind == RESIDENT else None

    @property
    def volunteer_id(self) -> int | None:
        return self.id if self.kind == VOLUNTEER else None

    def columns(self, suffix: str = "") -> dict[str, int | None]:
        """The two foreign-key column values, e.g. {"resident_a_id": 3, "volunteer_a_id": None}."""
        return {f"resident{suffix}_id": self.resident_id, f"volunteer{suffix}_id": self.volunteer_id}


def from_key(key: int) -> Person:
    return Person(VOLUNTEER if key % 2 else RESIDENT, key // 2)


def from_columns(resident_id: int | None, volunteer_id: int | None) -> Person:
    return Person(RESIDENT, resident_id) if resident_id is not None else Person(VOLUNTEER, int(volunteer_id or 0))


def clean_person(data: Mapping[str, Any] | None, field: str) -> Person:
    """`{"resident_id": n}` or `{"volunteer_id": n}` naming someone who exists; else FieldErrors on `field`."""
    data = data or {}
    resident_id, volunteer_id = data.get("resident_id"), data.get("volunteer_id")
    prefix = f"{field}." if field else ""
    if (resident_id is None) == (volunteer_id is None):
        raise FieldErrors({field or "resident_id": "Give either a resident_id or a volunteer_id, not both"})
    for name, value in (("resident_id", resident_id), ("volunteer_id", volunteer_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise FieldErrors({f"{prefix}{name}": f"{name} must be an id"})
    person = (
        Person(RESIDENT, int(resident_id)) if resident_id is not None else Person(VOLUNTEER, int(volunteer_id or 0))
    )
    model = Resident if person.kind == RESIDENT else Volunteer
    if db.session.get(model, person.id) is None:
        raise FieldErrors({f"{prefix}{person.kind}_id": f"No {person.kind} with that id"})
    return person


@dataclass(frozen=True)
class PersonDetails:
    name: str
    language: str
    postcode: str


def details(people: Iterable[Person]) -> dict[Person, PersonDetails]:
    """Names, languages and postcodes for the pages, in two queries whatever the number of people."""
    wanted = set(people)
    residents = [p.id for p in wanted if p.kind == RESIDENT]
    volunteers = [p.id for p in wanted if p.kind == VOLUNTEER]
    out: dict[Person, PersonDetails] = {}
    if residents:
        rows = db.session.execute(
            select(Resident.id, Resident.name, Resident.language, Resident.postcode).where(Resident.id.in_(residents))
        )
        for rid, name, language, postcode in rows:
            out[Person(RESIDENT, rid)] = PersonDetails(name, language or "English", postcode)
    if volunteers:
        rows = db.session.execute(
            select(Volunteer.id, Volunteer.name, Volunteer.home_postcode).where(Volunteer.id.in_(volunteers))
        )
        for vid, name, postcode in rows:
            # Volunteers record no language: they work in English with the network.
            out[Person(VOLUNTEER, vid)] = PersonDetails(name, "English", postcode)
    return out


def parse_people(text: str | None, field: str = "others") -> list[Person]:
    """ "r12, v7" -> people (r: resident, v: volunteer) who exist; FieldErrors on `field` otherwise."""
    people: list[Person] = []
    for token in (text or "").replace(",", " ").split():
        token = token.strip().lower()
        kind = {"r": RESIDENT, "v": VOLUNTEER}.get(token[:1])
        if kind is None or not (token[1:].isascii() and token[1:].isdigit()) or len(token) > 10:
            raise FieldErrors(
                {field: f"Write each person as r (resident) or v (volunteer) and their id, like r12: not {token[:12]}"}
            )
        try:
            people.append(clean_person({f"{kind}_id": int(token[1:])}, ""))
        except FieldErrors:
            raise FieldErrors({field: f"No {kind} with id {int(token[1:])}"}) from None
    return people
