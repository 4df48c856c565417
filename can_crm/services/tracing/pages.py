"""What the Track and Trace pages show, loaded in a fixed number of queries (views stay thin)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from can_crm.models.tracing import Case
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.tracing import cases
from can_crm.services.tracing.cases import ContactView, person_of
from can_crm.services.tracing.people import Person, PersonDetails, details

DEFAULT_PERIOD_DAYS = 28


@dataclass(frozen=True)
class CasePage:
    case: Case
    person: Person
    contacts: list[ContactView]
    people: dict[Person, PersonDetails]
    test_and_trace_ids: dict[Person, str]
    window: tuple[date, date]
    degree: int


def case_page(case_id: int, degree: int, user_id: int | None) -> CasePage:
    case = cases.get_case(case_id, user_id)
    contacts = cases.contacts_of(case, degree, user_id)
    everyone = [person_of(case)] + [v.traced.person for v in contacts]
    everyone += [p for v in contacts for p in v.traced.via]
    return CasePage(
        case,
        person_of(case),
        contacts,
        details(everyone),
        cases.test_and_trace_ids(everyone),
        cases.window().days(case.onset),
        degree,
    )


@dataclass(frozen=True)
class CaseRow:
    case: Case
    person: Person
    details: PersonDetails | None


def case_rows(user_id: int | None) -> list[CaseRow]:
    found = cases.list_cases(user_id)
    people = details(person_of(c) for c in found)
    return [CaseRow(c, person_of(c), people.get(person_of(c))) for c in found]


def clean_period(raw: Mapping[str, Any]) -> tuple[date, date]:
    """Onset from/to (ISO or "d m yyyy"), by default the last 28 days; FieldErrors name the wrong box."""
    today = times.today()
    errors: dict[str, str] = {}
    out: dict[str, date | None] = {}
    for key, label in (("date_from", "The start"), ("date_to", "The end")):
        value = raw.get(key)
        if value in (None, ""):
            out[key] = None
            continue
        try:
            out[key] = cases.clean_date(value, key, label)
        except ValidationError as exc:
            errors[key] = exc.message
    start = out.get("date_from") or today - timedelta(days=DEFAULT_PERIOD_DAYS)
    end = out.get("date_to") or today
    if not errors and start > end:
        errors["date_to"] = "The end must be the same as or after the start"
    if not errors and (end - start).days > 366:
        errors["date_to"] = "Choose a period of a year or less"
    if errors:
        raise FieldErrors(errors)
    return start, end
