"""Each request carries a copy of its resident's location (requests.h3_map, lat, lon) for Nearby: the copy follows
the resident wherever the location is written, and on PostgreSQL the Nearby query walks the pool nearest first
through ix_requests_pool_place, not by reading the whole pool (SQLite reaches it by cell)."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from can_crm import unit_of_work
from can_crm.models.base import utcnow
from can_crm.models.enums import Channel
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.outreach import shielded
from can_crm.services.privacy import catalogue, erasure, subject_access
from can_crm.services.requests import intake, locations
from can_crm.services.requests.events import Actor
from can_crm.services.requests.occurrences import create_next_occurrence
from can_crm.services.residents import profiles as residents
from can_crm.services.volunteers import nearby
from geo.cells import h3_cells
from tests.conftest import postcode_in
from tests.integration.plan_helpers import plan_nodes
from tests.integration.test_location_unknown import NEW_BUILD
from tests.shielded_helpers import csv_bytes, rows

COORDINATOR = Actor(role="coordinator")


def out_of_step(db: Any) -> list[tuple[Any, ...]]:
    """Requests whose copy differs from their resident's location (none, whatever wrote it)."""
    db.session.expire_all()
    columns = ("h3_map", "lat", "lon")
    query = (
        select(
            HelpRequest.reference, *(getattr(HelpRequest, c) for c in columns), *(getattr(Resident, c) for c in columns)
        )
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .order_by(HelpRequest.id)
    )
    return [tuple(row) for row in db.session.execute(query) if tuple(row[1:4]) != tuple(row[4:7])]


def test_the_copy_follows_intake_placing_updates_occurrences_and_erasure(
    db: Any, make_request: Any, make_user: Any, postcode_index: Path
) -> None:
    placed = make_request()
    assert placed.h3_map is not None and placed.lat is not None and out_of_step(db) == []
    unplaced = make_request(resident={"postcode": NEW_BUILD})
    assert (unplaced.h3_map, unplaced.lat, unplaced.lon) == (None, None, None)
    # A coordinator places the resident the directory does not list.
    locations.set_location(make_user("coordinator"), unplaced.reference, {"lat": "51.4927", "lon": "-0.2240"})
    unit_of_work.commit()
    assert out_of_step(db) == [] and db.session.get(HelpRequest, unplaced.id).h3_map is not None
    # The resident moves (a postcode in another borough): every one of their requests follows.
    second = intake.submit({"type": "dog_walking"}, COORDINATOR, Channel.PHONE, resident_id=placed.resident_id)
    unit_of_work.commit()
    resident = db.session.get(Resident, placed.resident_id)
    residents.update_resident(resident, {"postcode": postcode_in(postcode_index, "E09000027")})
    unit_of_work.commit()
    moved = db.session.get(HelpRequest, second.id)
    assert out_of_step(db) == [] and moved.h3_map == resident.h3_map != h3_cells(51.4927, -0.2240)[1]
    # The next occurrence of a recurring request starts with the copy.
    nxt = create_next_occurrence(db.session.get(HelpRequest, placed.id), timedelta(days=7), COORDINATOR)
    unit_of_work.commit()
    assert nxt.h3_map == resident.h3_map and out_of_step(db) == []
    # Erasure blanks the personal copy (lat, lon) with the resident's, and keeps the cell (not personal) as theirs.
    erasure.erase(resident.id, "Asked to be forgotten", None, "system")
    unit_of_work.commit()
    assert out_of_step(db) == []
    row = db.session.get(HelpRequest, placed.id)
    assert (row.lat, row.lon) == (None, None) and row.h3_map == db.session.get(Resident, resident.id).h3_map


def test_a_shielded_import_that_moves_a_resident_moves_their_requests(db: Any, postcode_index: Path) -> None:
    first, other = postcode_in(postcode_index), postcode_in(postcode_index, "E09000027")
    data = rows(1, [first])
    shielded.import_shielded(csv_bytes(data))
    unit_of_work.commit()
    resident_id = db.session.scalar(select(Resident.id))
    intake.submit({"type": "shopping"}, COORDINATOR, Channel.PHONE, resident_id=resident_id)
    unit_of_work.commit()
    data[0][7] = other
    summary, _ = shielded.import_shielded(csv_bytes(data))
    unit_of_work.commit()
    assert summary["updated"] == 1 and out_of_step(db) == []
    assert db.session.scalar(select(HelpRequest.h3_map)) == db.session.get(Resident, resident_id).h3_map


def test_the_copies_are_declared_like_the_residents_columns_and_exported(db: Any, make_request: Any) -> None:
    requests_table, residents_table = catalogue.table("requests"), catalogue.table("residents")
    for name in ("h3_map", "lat", "lon"):
        assert requests_table.c[name].info["personal"] == residents_table.c[name].info["personal"], name
    made = make_request()
    exported = subject_access.build(made.resident_id).tables["requests"][0]
    assert exported["lat"] == made.lat and exported["h3_map"] == made.h3_map


# -- the plan on PostgreSQL -----------------------------------------------------------------------------------


def _seed_pool(db: Any, volunteer: Any, near: int, far: int, other: int) -> None:
    """`near` pool requests inside the volunteer's cells, `far` pool requests elsewhere in the South of England and
    `other` closed requests (the pool is a small part of the table, as in life): bulk rows, then ANALYZE so the
    planner knows the proportions."""
    rng = random.Random(8)
    now = utcnow()
    cells = set(nearby.search_cells(volunteer))
    places = []
    while len(places) < far:
        lat, lon = rng.uniform(50.8, 53.5), rng.uniform(-2.8, 0.2)
        if h3_cells(lat, lon)[1] not in cells:
            places.append((lat, lon))
    around = volunteer.lat, volunteer.lon
    places += [(around[0] + rng.uniform(-0.01, 0.01), around[1] + rng.uniform(-0.01, 0.01)) for _ in range(near)]
    people = []
    for n, (lat, lon) in enumerate(places):
        fine, coarse = h3_cells(lat, lon)
        people.append(
            {"name": f"Resident {n}", "address_line1": f"{n} Test Street", "postcode": "W6 9AA", "lat": lat,
             "lon": lon, "h3_fine": fine, "h3_map": coarse, "created_at": now, "updated_at": now}
        )  # fmt: skip
    ids = db.session.scalars(insert(Resident).returning(Resident.id, sort_by_parameter_order=True), people).all()
    owners = [(rid, person, "triaged") for rid, person in zip(ids, people, strict=True)]
    owners += [(ids[n % far], people[n % far], "closed") for n in range(other)]
    db.session.execute(
        insert(HelpRequest),
        [
            {"reference": f"T-{n:011d}", "resident_id": rid, "type": "shopping", "status": status, "details": "",
             "required_skills": [], "sla_due_at": now, "created_at": now, "updated_at": now, "lat": person["lat"],
             "lon": person["lon"], "h3_map": person["h3_map"]}
            for n, (rid, person, status) in enumerate(owners)
        ],
    )  # fmt: skip
    unit_of_work.commit()
    db.session.execute(text("ANALYZE requests"))
    db.session.execute(text("ANALYZE residents"))


def test_nearby_walks_the_pool_nearest_first_through_the_place_index(db: Any, make_volunteer: Any) -> None:
    volunteer = make_volunteer()
    unit_of_work.commit()
    _seed_pool(db, volunteer, near=30, far=1500, other=30000)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    for types in (["shopping"], None):  # the benchmark's form, and the page's (types read in the statement)
        query = nearby.nearby_query(volunteer, types, nearby.first_read())
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        plan = db.session.execute(text("EXPLAIN (FORMAT JSON) " + sql)).scalar()[0]["Plan"]
        scans = [node for node in plan_nodes(plan) if node.get("Relation Name") == "requests" or "Index Name" in node]
        used = {node.get("Index Name") for node in scans}
        assert "ix_requests_pool_place" in used, json.dumps(plan, indent=1)[:4000]
        assert "ix_requests_unassigned_pool" not in used
        assert not [n for n in scans if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "requests"]
    # Once vacuumed (autovacuum's work), the candidates come from the index alone: it carries id, lat and lon.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE requests"))
    for types in (["shopping"], None):
        sql = str(
            nearby.nearby_query(volunteer, types, nearby.first_read()).compile(
                db.engine, compile_kwargs={"literal_binds": True}
            )
        )
        plan = db.session.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar()[0]["Plan"]
        pool = [n for n in plan_nodes(plan) if n.get("Index Name") == "ix_requests_pool_place"]
        assert [n["Node Type"] for n in pool] == ["Index Only Scan"], json.dumps(plan, indent=1)[:4000]
        assert pool[0]["Heap Fetches"] == 0
        # Nearest first, and the walk stops after the rows asked for: it does not read the pool.
        assert pool[0]["Actual Rows"] <= nearby.first_read(), json.dumps(plan, indent=1)[:4000]
    found = db.session.execute(nearby.nearby_query(volunteer, ["shopping"], nearby.LIMIT * 2)).all()
    assert len(found) == 30 and all(row.lat is not None for row in found)
    # No index by cell on PostgreSQL (migration 0024): nothing reads it there, and every pool write kept it.
    indexes = set(db.session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'requests'")))
    assert "ix_requests_pool_place" in indexes and "ix_requests_pool_cell" not in indexes
    distances = [nearby.place_distance(volunteer, row.lat, row.lon) for row in found]
    assert distances == sorted(distances)
