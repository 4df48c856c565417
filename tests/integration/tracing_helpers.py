"""Helpers shared by the Track and Trace tests: a tracer, people, and interactions at chosen times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.resident import Resident
from can_crm.models.tracing import Interaction
from can_crm.services.accounts import users
from can_crm.services.common import times
from can_crm.services.tracing.people import RESIDENT, VOLUNTEER, Person

TODAY = times.today()


def make_tracer(make_user: Any) -> Any:
    user = make_user("coordinator")
    users.set_tracing(user, True, user.id)
    unit_of_work.commit()
    return user


def resident(name: str = "Ada Lovelace", language: str = "English", lat: float = 51.48, lon: float = -0.22) -> Person:
    row = Resident(name=name, address_line1="1 High Street", postcode="W6 9JT", language=language, lat=lat, lon=lon)
    db.session.add(row)
    db.session.flush()
    return Person(RESIDENT, row.id)


def volunteer(make_volunteer: Any, name: str = "Sam Volunteer") -> Person:
    return Person(VOLUNTEER, make_volunteer(name=name).id)


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def meet(
    a: Person, b: Person, when: datetime, minutes: int = 15, setting: str = "doorstep", kind: str = "other"
) -> int:
    row = Interaction(
        **a.columns("_a"), **b.columns("_b"), occurred_at=when, duration_minutes=minutes, setting=setting, kind=kind
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)
