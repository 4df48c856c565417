"""The trace: everyone an index case met in the infectious window, and everyone they met afterwards.

Graph method: two batched queries, whatever the number of contacts. Each query is a UNION ALL of two index
range scans, one per side of an interaction: `a_key IN (...) AND occurred_at in [lo, hi)` on
ix_interactions_a_key_time and the same on ix_interactions_b_key_time. The first degree asks for the index
person over the window; the second asks for every first-degree person at once over the span of their windows,
and each person's own window (from their first exposure to DAYS_AFTER days later) is applied here. A recursive
CTE would revisit people reached twice and cannot apply per-person windows without joining back.

Days are UTC calendar days: the window is [onset - before, onset + after], both ends included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, union_all

from can_crm.extensions import db
from can_crm.models.tracing import Interaction
from can_crm.services.common import times
from can_crm.services.tracing.interactions import SETTING_RANK
from can_crm.services.tracing.people import Person, from_key


@dataclass(frozen=True)
class Window:
    before: int = 2
    after: int = 10

    def days(self, onset: date) -> tuple[date, date]:
        """The first and last day of the infectious window, both included."""
        return onset - timedelta(days=self.before), onset + timedelta(days=self.after)

    def around(self, onset: date) -> tuple[datetime, datetime]:
        """[start, end) of the infectious window, from the council's midnight to its midnight."""
        return _midnight(onset - timedelta(days=self.before)), _midnight(onset + timedelta(days=self.after + 1))

    def onward(self, exposed_at: datetime) -> tuple[datetime, datetime]:
        """[start, end) in which someone exposed at `exposed_at` may pass it on."""
        return exposed_at, _midnight(times.today(exposed_at) + timedelta(days=self.after + 1))


def _midnight(day: date) -> datetime:
    return times.day_start(day)


@dataclass(frozen=True)
class Link:
    """One interaction between two people."""

    id: int
    a: Person
    b: Person
    occurred_at: datetime
    duration_minutes: int
    setting: str
    kind: str

    def other(self, person: Person) -> Person:
        return self.b if self.a == person else self.a


@dataclass
class TracedContact:
    person: Person
    degree: int
    links: list[Link] = field(default_factory=list)
    # Second degree: the first-degree contacts through whom they were reached.
    via: list[Person] = field(default_factory=list)

    @property
    def exposure(self) -> str:
        return max((link.setting for link in self.links), key=SETTING_RANK.__getitem__)

    @property
    def minutes(self) -> int:
        return sum(link.duration_minutes for link in self.links)

    @property
    def first_exposed_at(self) -> datetime:
        return min(link.occurred_at for link in self.links)

    def rank_key(self) -> tuple[int, int, int, int]:
        """Degree first, then inside > doorstep > outside, then longer together first."""
        return (self.degree, -SETTING_RANK[self.exposure], -self.minutes, self.person.key)


_COLUMNS = (
    Interaction.id,
    Interaction.a_key,
    Interaction.b_key,
    Interaction.occurred_at,
    Interaction.duration_minutes,
    Interaction.setting,
    Interaction.kind,
)


def _links(keys: Iterable[int], start: datetime, end: datetime) -> list[Link]:
    """Every interaction touching one of `keys` in [start, end): one statement, two index range scans."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    sides = [
        select(*_COLUMNS).where(column.in_(wanted), Interaction.occurred_at >= start, Interaction.occurred_at < end)
        for column in (Interaction.a_key, Interaction.b_key)
    ]
    rows = db.session.execute(union_all(*sides)).all()
    found: dict[int, Link] = {}
    for row in rows:
        # An interaction between two of `keys` comes back from both scans: keep it once.
        found.setdefault(
            row.id,
            Link(
                row.id,
                from_key(row.a_key),
                from_key(row.b_key),
                row.occurred_at,
                row.duration_minutes,
                row.setting,
                row.kind,
            ),
        )
    return sorted(found.values(), key=lambda link: (link.occurred_at, link.id))


def trace(index: Person, onset: date, degree: int = 2, window: Window | None = None) -> list[TracedContact]:
    """Contacts of `index` to `degree` (1 or 2), each person once, ranked (see TracedContact.rank_key)."""
    window = window or Window()
    start, end = window.around(onset)
    first: dict[Person, TracedContact] = {}
    for link in _links([index.key], start, end):
        other = link.other(index)
        first.setdefault(other, TracedContact(other, 1)).links.append(link)
    contacts = dict(first)
    if degree >= 2 and first:
        onward = {person: window.onward(contact.first_exposed_at) for person, contact in first.items()}
        lo = min(s for s, _ in onward.values())
        hi = max(e for _, e in onward.values())
        for link in _links((p.key for p in first), lo, hi):
            for source in (link.a, link.b):
                if source not in first:
                    continue
                s, e = onward[source]
                target = link.other(source)
                # Each person appears once: the index and first-degree contacts are never second degree.
                if not s <= link.occurred_at < e or target == index or target in first:
                    continue
                contact = contacts.setdefault(target, TracedContact(target, 2))
                if link not in contact.links:
                    contact.links.append(link)
                if source not in contact.via:
                    contact.via.append(source)
    return sorted(contacts.values(), key=TracedContact.rank_key)
