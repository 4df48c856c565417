"""Nearby: self-service types only, nearest first, and exactly one winner when many claim at once."""

from __future__ import annotations

import math
import threading
from typing import Any

from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.enums import EventKind
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.services.common.errors import Conflict
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor
from can_crm.services.volunteers import nearby, profiles
from tests.integration.volunteer_helpers import COORDINATOR, volunteer_with_account


def _pool(make_request: Any, n: int = 1, triage: dict[str, Any] | None = None, **overrides: Any) -> list[Any]:
    made = []
    for _ in range(n):
        req = make_request(**overrides)
        requests.triage(req, triage or {}, COORDINATOR)
        made.append(req)
    unit_of_work.commit()
    return made


def test_nearby_lists_only_types_opened_for_self_service_without_the_resident(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, _ = volunteer_with_account(make_user, make_volunteer)
    (shopping,) = _pool(make_request)
    _pool(make_request, request={"type": "befriending"})
    login(user)
    assert client.get("/api/v1/me/nearby").get_json()["items"] == []
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    items = client.get("/api/v1/me/nearby").get_json()["items"]
    assert [i["reference"] for i in items] == [shopping.reference]
    assert "Margaret" not in str(items) and "Fulham Palace" not in str(items)
    assert "Margaret" not in client.get("/volunteer/nearby").get_data(as_text=True)
    claimed = client.post(f"/api/v1/me/nearby/{shopping.reference}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["status"] == "accepted"
    again = client.post(f"/api/v1/me/nearby/{shopping.reference}/claim")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "taken"


def test_an_unvetted_volunteer_sees_nothing_nearby_and_cannot_claim(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    user, _ = volunteer_with_account(make_user, make_volunteer, status="pending")
    (req,) = _pool(make_request)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    login(user)
    assert client.get("/api/v1/me/nearby").get_json()["items"] == []
    assert client.post(f"/api/v1/me/nearby/{req.reference}/claim").status_code == 403
    assert client.get("/api/v1/me/offers").get_json()["items"] == []


def _wide_app(app: Any) -> Any:
    """The same database with a pool of 25 connections, so 20 claimers really run at once."""
    from can_crm import create_app

    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "POSTCODE_INDEX", "REDIS_URL")}
    return create_app({"CAN_ENV": "test", "TESTING": True, **config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25}})


def test_twenty_volunteers_claiming_one_request_at_once_give_exactly_one_owner(
    app: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any
) -> None:
    wide = _wide_app(app)
    volunteers = [
        volunteer_with_account(make_user, make_volunteer, name="Volunteer " + "abcdefghijklmnopqrst"[n])[1]
        for n in range(20)
    ]
    (req,) = _pool(make_request)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    ids = [(v.id, v.user_id) for v in volunteers]
    reference, request_id = req.reference, req.id
    db.session.remove()
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim(volunteer_id: int, user_id: int) -> None:
        with wide.app_context():
            volunteer = profiles.get_volunteer(volunteer_id)
            try:
                barrier.wait(timeout=30)
                nearby.claim(volunteer, reference, Actor("volunteer", user_id, volunteer_id))
                unit_of_work.commit()
                result = "won"
            except Conflict:
                unit_of_work.rollback()
                result = "refused"
            except threading.BrokenBarrierError:
                unit_of_work.rollback()
                result = "no start"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=claim, args=pair) for pair in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with wide.app_context():
        db.engine.dispose()
    assert sorted(outcomes).count("won") == 1 and outcomes.count("refused") == 19
    row = db.session.get(HelpRequest, request_id)
    assert row.status == "accepted" and row.volunteer_id in {i for i, _ in ids}
    accepted = db.session.scalar(
        select(func.count()).where(
            RequestEvent.request_id == request_id,
            RequestEvent.kind == EventKind.TRANSITION,
            RequestEvent.to_status == "accepted",
        )
    )
    assert accepted == 1


def test_a_volunteer_with_a_place_but_no_map_cell_sees_nothing_nearby_and_no_error(
    db: Any, make_volunteer: Any
) -> None:
    from can_crm import unit_of_work
    from can_crm.services.volunteers import nearby

    volunteer = make_volunteer()
    volunteer.h3_map = None  # a place from before cells were kept
    unit_of_work.commit()
    nearby.set_open_types(["shopping"], None)
    assert volunteer.lat is not None
    assert nearby.search_cells(volunteer) == []
    assert nearby.list_nearby(volunteer) == []


def test_requests_the_volunteer_cannot_take_never_hide_one_further_away_that_they_can(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any
) -> None:
    """Nearby reads a few more rows than it shows and drops those the volunteer may not take; when the nearest
    are all beyond them (an enhanced DBS check, here), it reads on instead of showing too few, or nothing."""
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    assert volunteer.dbs_level == "basic"
    blocked = _pool(make_request, 3, triage={"min_dbs": "enhanced"})
    (open_to_all,) = _pool(make_request)  # the same place: read after the others (nearest first, then by id)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    assert [o.reference for o in nearby.list_nearby(volunteer, limit=1)] == [open_to_all.reference]
    assert [o.reference for o in nearby.list_nearby(volunteer)] == [open_to_all.reference]
    assert nearby.list_nearby(volunteer, limit=0) == []
    login(user)
    shown = client.get("/volunteer/nearby").get_data(as_text=True)
    assert open_to_all.reference in shown and not any(b.reference in shown for b in blocked)


def test_nearby_lists_in_order_of_distance_on_the_ground_where_the_index_weighs_east_otherwise(
    db: Any, make_volunteer: Any, make_request: Any
) -> None:
    """The place index weighs a degree east as 0.6 of a degree north (the cosine of Great Britain's middle). In the
    north of Scotland a degree east is shorter, so the index walks to a request 2.1 km due north before one 2.0 km
    due east. Nearby still lists the nearer first, even when it reads a single row at first, and misses neither."""
    volunteer = make_volunteer()
    volunteer.lat, volunteer.lon, volunteer.max_km = 57.5, -4.2, 5.0
    east, north = _pool(make_request, 2)
    east.lat, east.lon = 57.5, -4.2 + 2.0 / (111.32 * math.cos(math.radians(57.5)))
    north.lat, north.lon = 57.5 + 2.1 / 111.2, -4.2
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    assert nearby.place_distance(volunteer, north.lat, north.lon) < nearby.place_distance(volunteer, east.lat, east.lon)
    assert nearby.first_read(1) == 1
    assert [(o.reference, o.distance_km) for o in nearby.list_nearby(volunteer, limit=1)] == [(east.reference, 2.0)]
    assert [o.reference for o in nearby.list_nearby(volunteer)] == [east.reference, north.reference]
    volunteer.max_km = 2.05  # within reach as the list shows distances (to 0.1 km): the one due east only
    unit_of_work.commit()
    assert [o.reference for o in nearby.list_nearby(volunteer)] == [east.reference]


def test_nearby_at_the_edges_of_reach_far_north_and_at_the_shortest_and_longest_reach(
    db: Any, make_volunteer: Any, make_request: Any
) -> None:
    """In Shetland, where a degree east is shortest, with the longest reach a volunteer may set (100 km): the
    requests 98.5 km north and about 99 km east are both found (the box around the reach is wide enough there), in
    order of distance on the ground, and one 101 km north is not; with the shortest reach (0.1 km), only the one
    at the door."""
    volunteer = make_volunteer()
    volunteer.lat, volunteer.lon, volunteer.max_km = 60.2, -1.2, 100.0
    door, north, east, beyond = _pool(make_request, 4)
    door.lat, door.lon = 60.2 + 0.05 / 111.2, -1.2
    north.lat, north.lon = 60.2 + 98.5 / 111.2, -1.2
    east.lat, east.lon = 60.2, -1.2 + 99.0 / (111.32 * math.cos(math.radians(60.2)))
    beyond.lat, beyond.lon = 60.2 + 101.0 / 111.2, -1.2
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    shown = nearby.list_nearby(volunteer)
    assert [o.reference for o in shown] == [door.reference, north.reference, east.reference]
    assert [o.distance_km for o in shown] == sorted(o.distance_km for o in shown if o.distance_km is not None)
    assert all(o.distance_km is not None and o.distance_km <= 100 for o in shown)
    assert [o.reference for o in nearby.list_nearby(volunteer, limit=1)] == [door.reference]
    volunteer.max_km = 0.1
    unit_of_work.commit()
    assert [o.reference for o in nearby.list_nearby(volunteer)] == [door.reference]
