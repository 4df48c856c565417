"""The request page's drop-down of volunteers: the nearest few who can work today, chosen by the database, in the
same order an exhaustive search over every volunteer gives."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import times
from can_crm.services.volunteers.profiles import Candidate, candidates_for, distance_km, language_skill

HOME = (51.4875, -0.2205)


def _volunteers(make_volunteer: Any, db: Any, n: int) -> None:
    rng = random.Random(7)
    today = times.today()
    for i in range(n):
        skills = ["shopping", "language_polish"] if i % 5 == 0 else ["shopping"]
        word = "".join(rng.choice("abcdefgh") for _ in range(3))
        volunteer = make_volunteer(name=f"{rng.choice('ABCDEFGH')} Helper {word}", skills=skills)
        row = db.session.get(Volunteer, volunteer.id)
        if i % 9 == 0:
            row.lat = row.lon = None  # no place yet (a postcode the directory did not know)
        else:
            # Within ~8 km; a few pairs at the same spot, so the name decides between them.
            spot = i // 2 if i % 7 == 0 else i
            r = random.Random(spot)
            row.lat, row.lon = HOME[0] + r.uniform(-0.07, 0.07), HOME[1] + r.uniform(-0.11, 0.11)
        if i % 11 == 0:
            row.paused_until = today + timedelta(days=3)  # not available today: never listed
        if i % 13 == 0:
            row.active = False
    unit_of_work.commit()


def _exhaustive(db: Any, lat: float | None, lon: float | None, limit: int, language: str | None) -> list[Candidate]:
    """Every volunteer, available today, ordered as the page promises: nearest (km as shown), name, id; then
    those without a place by name."""
    today = times.today()
    skill = language_skill(language)
    everyone = [v for v in db.session.scalars(select(Volunteer)) if v.is_available(today)]
    placed, unplaced = [], []
    for v in sorted(everyone, key=lambda v: (v.name, v.id)):
        talks = skill is not None and skill in (v.skills or [])
        if lat is not None and lon is not None and v.lat is not None and v.lon is not None:
            placed.append(Candidate(v.id, v.name, v.max_km, round(distance_km(lat, lon, v.lat, v.lon), 1), talks))
        else:
            unplaced.append(Candidate(v.id, v.name, v.max_km, None, talks))
    placed.sort(key=lambda c: (c.km, c.name, c.id))
    return (placed + unplaced)[:limit]


def _shown(candidates: list[Candidate]) -> list[tuple[int, float | None, bool]]:
    return [(c.id, c.km, c.speaks_language) for c in candidates]


def test_the_nearest_few_come_in_the_order_an_exhaustive_search_gives(make_volunteer: Any, db: Any) -> None:
    _volunteers(make_volunteer, db, 60)
    today = times.today()
    for limit in (5, 12, 25, 80):
        got = candidates_for(*HOME, today, limit=limit, language="Polish")
        assert _shown(got) == _shown(_exhaustive(db, *HOME, limit, "Polish")), limit
    # More asked for than have a place: the unplaced follow, by name. No place for the request: all by name.
    assert any(c.km is None for c in candidates_for(*HOME, today, limit=80))
    assert _shown(candidates_for(None, None, today, limit=12)) == _shown(_exhaustive(db, None, None, 12, None))
    listed = {c.id for c in candidates_for(*HOME, today, limit=80)}
    unavailable = {v.id for v in db.session.scalars(select(Volunteer)) if not v.is_available(today)}
    assert unavailable and not listed & unavailable


def test_no_volunteers_gives_an_empty_list(db: Any) -> None:
    assert candidates_for(*HOME, times.today()) == []
    assert candidates_for(None, None, times.today()) == []


def test_the_nearest_are_read_from_the_place_index_not_sorted_from_every_volunteer(db: Any) -> None:
    """At 3,000 volunteers, the drop-down's query walks ix_volunteers_place nearest first (PostgreSQL's K nearest
    neighbours on a GiST index) and stops after the few it needs, and still lists the truly nearest."""
    from sqlalchemy import insert, text

    from can_crm.models.base import utcnow
    from tests.integration.plan_helpers import plan_nodes, plans, sent_statement

    rng, now = random.Random(11), utcnow()
    rows = [
        {"name": f"Helper {n}", "skills": ["shopping"], "home_postcode": "W6 9AA",
         "lat": HOME[0] + rng.uniform(-0.3, 0.3), "lon": HOME[1] + rng.uniform(-0.45, 0.45), "max_km": 5.0,
         "capacity": 2, "dbs_level": "basic", "availability": {}, "active": True, "status": "active",
         "created_at": now, "updated_at": now}
        for n in range(3000)
    ]  # fmt: skip
    db.session.execute(insert(Volunteer), rows)
    unit_of_work.commit()
    db.session.execute(text("ANALYZE volunteers"))
    unit_of_work.commit()
    today = times.today()
    statement, parameters = sent_statement(db, lambda: candidates_for(*HOME, today, limit=10), "SELECT volunteers.id")
    for plan in plans(db, statement, parameters).values():
        scans = {n.get("Index Name") for n in plan_nodes(plan)}
        assert "ix_volunteers_place" in scans, plan
        assert not [n for n in plan_nodes(plan) if n["Node Type"] in ("Seq Scan", "Sort")], json.dumps(plan, indent=1)
    assert _shown(candidates_for(*HOME, today, limit=10)) == _shown(_exhaustive(db, *HOME, 10, None))
