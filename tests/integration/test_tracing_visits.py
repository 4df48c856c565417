"""Visits become interactions from the request history, once per request occurrence and volunteer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.tracing import Interaction
from can_crm.services.requests import lifecycle
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor
from can_crm.services.tracing import interactions

COORD = Actor(role="coordinator", user_id=None)


def deliver(req: Any, volunteer_id: int, *, started: bool = True) -> None:
    requests.triage(req, {"urgency": "2"}, COORD)
    requests.assign_volunteer(req, volunteer_id, COORD)
    own = Actor(role="volunteer", volunteer_id=volunteer_id)
    lifecycle.transition(req, "accepted", own)
    if started:
        lifecycle.transition(req, "in_progress", own)
    lifecycle.transition(req, "delivered", own) if started else None


def visits(db: Any) -> list[Interaction]:
    return list(db.session.scalars(select(Interaction).order_by(Interaction.id)))


def test_a_delivery_records_a_doorstep_visit_between_volunteer_and_resident(
    db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req, volunteer = make_request(), make_volunteer()
    deliver(req, volunteer.id)
    unit_of_work.commit()
    [visit] = visits(db)
    assert (visit.volunteer_a_id, visit.resident_b_id, visit.request_id) == (volunteer.id, req.resident_id, req.id)
    assert visit.setting == "doorstep" and visit.kind == "visit"
    assert 1 <= visit.duration_minutes <= 60


def test_the_visit_lasts_from_in_progress_to_delivered(
    db: Any, app: Any, make_request: Any, make_volunteer: Any
) -> None:
    req, volunteer = make_request(), make_volunteer()
    requests.triage(req, {"urgency": "2"}, COORD)
    requests.assign_volunteer(req, volunteer.id, COORD)
    own = Actor(role="volunteer", volunteer_id=volunteer.id)
    lifecycle.transition(req, "accepted", own)
    started = lifecycle.transition(req, "in_progress", own)
    # The history is append-only, so the delivery is placed 25 minutes after the start instead.
    interactions.record_visit(req, started.created_at + timedelta(minutes=25))
    [visit] = visits(db)
    assert visit.duration_minutes == 25


def test_a_delivery_without_a_start_gets_the_default_duration(
    db: Any, app: Any, make_request: Any, make_volunteer: Any
) -> None:
    req, volunteer = make_request(), make_volunteer()
    requests.triage(req, {"urgency": "2"}, COORD)
    requests.assign_volunteer(req, volunteer.id, COORD)
    req.status = "in_progress"  # as an old row might be: no in_progress event naming the volunteer
    db.session.flush()
    lifecycle.transition(req, "delivered", COORD)
    [visit] = visits(db)
    assert visit.duration_minutes == app.config["TRACING_VISIT_DEFAULT_MINUTES"]


def test_befriending_is_inside(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req, volunteer = make_request(request={"type": "befriending"}), make_volunteer()
    deliver(req, volunteer.id)
    [visit] = visits(db)
    assert visit.setting == "inside"


def test_delivering_again_records_no_second_visit(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req, volunteer = make_request(), make_volunteer()
    deliver(req, volunteer.id)
    interactions.record_visit(req)
    assert interactions.backfill_visits() == 0
    assert len(visits(db)) == 1


def test_backfill_derives_visits_of_past_deliveries_once(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req, volunteer = make_request(), make_volunteer()
    deliver(req, volunteer.id)
    db.session.flush()
    db.session.execute(Interaction.__table__.delete())
    assert visits(db) == []
    assert interactions.backfill_visits() == 1
    assert interactions.backfill_visits() == 0
    [visit] = visits(db)
    assert visit.request_id == req.id and visit.volunteer_a_id == volunteer.id
