"""The trace: window edges, second degree without duplicates, ranking by exposure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event

from can_crm.services.tracing.trace import Window, trace
from tests.integration.tracing_helpers import at, days_ago, meet, resident


def test_window_includes_first_and_last_day_and_excludes_the_day_before_and_after(db: Any) -> None:
    onset = days_ago(20)
    case = resident("Index Case")
    day_before, first, last, day_after = (resident(n) for n in ("Before", "First", "Last", "After"))
    meet(case, day_before, at(onset - timedelta(days=3), 23))
    meet(case, first, at(onset - timedelta(days=2), 0))
    meet(case, last, at(onset + timedelta(days=10), 23))
    meet(case, day_after, at(onset + timedelta(days=11), 0))
    found = {c.person for c in trace(case, onset, 1)}
    assert found == {first, last}


def test_window_is_configurable(db: Any) -> None:
    onset = days_ago(20)
    case, early = resident("Index"), resident("Early")
    meet(case, early, at(onset - timedelta(days=4)))
    assert trace(case, onset, 1, Window(before=2, after=10)) == []
    assert [c.person for c in trace(case, onset, 1, Window(before=5, after=10))] == [early]


def test_second_degree_lists_each_person_once(db: Any) -> None:
    onset = days_ago(20)
    case, a, b, shared, only_a = (resident(n) for n in ("Case", "Alpha", "Bravo", "Shared", "Only Alpha"))
    meet(case, a, at(onset))
    meet(case, b, at(onset, 13))
    # Alpha and Bravo met each other, and both met Shared: nobody may appear twice.
    meet(a, b, at(onset + timedelta(days=1)))
    meet(a, shared, at(onset + timedelta(days=1)))
    meet(shared, b, at(onset + timedelta(days=2)))
    meet(only_a, a, at(onset + timedelta(days=3)))
    # Alpha met the case again: still one contact, with both interactions.
    meet(a, case, at(onset + timedelta(days=1), 9))
    contacts = trace(case, onset, 2)
    people = [c.person for c in contacts]
    assert len(people) == len(set(people)) == 4
    by_person = {c.person: c for c in contacts}
    assert by_person[a].degree == by_person[b].degree == 1
    assert len(by_person[a].links) == 2
    assert by_person[shared].degree == 2 and set(by_person[shared].via) == {a, b}
    assert by_person[only_a].degree == 2 and by_person[only_a].via == [a]
    assert case not in by_person


def test_second_degree_counts_only_meetings_after_the_first_exposure(db: Any) -> None:
    onset = days_ago(20)
    case, a, before, after = (resident(n) for n in ("Case", "Alpha", "Before", "After"))
    meet(case, a, at(onset, 12))
    meet(a, before, at(onset, 11))
    meet(a, after, at(onset, 13))
    assert {c.person for c in trace(case, onset, 2) if c.degree == 2} == {after}


def test_degree_one_leaves_out_second_degree(db: Any) -> None:
    onset = days_ago(20)
    case, a, b = resident("Case"), resident("Alpha"), resident("Bravo")
    meet(case, a, at(onset))
    meet(a, b, at(onset + timedelta(days=1)))
    assert [c.person for c in trace(case, onset, 1)] == [a]


def test_contacts_are_ranked_inside_before_doorstep_then_by_duration(db: Any) -> None:
    onset = days_ago(20)
    case = resident("Case")
    short_door, long_door, short_inside = resident("Short Door"), resident("Long Door"), resident("Short Inside")
    meet(case, short_door, at(onset), minutes=5, setting="doorstep")
    meet(case, long_door, at(onset), minutes=50, setting="doorstep")
    meet(case, short_inside, at(onset), minutes=5, setting="inside")
    assert [c.person for c in trace(case, onset, 1)] == [short_inside, long_door, short_door]


def test_the_trace_is_two_queries_however_many_contacts(db: Any, app: Any) -> None:
    onset = days_ago(20)
    case = resident("Case")
    for i in range(8):
        first = resident(f"First {chr(65 + i)}")
        meet(case, first, at(onset))
        for j in range(3):
            meet(first, resident(f"Second {chr(65 + i)} {chr(65 + j)}"), at(onset + timedelta(days=1)))
    statements: list[str] = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        contacts = trace(case, onset, 2)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(contacts) == 8 + 24
    assert len(statements) == 2
