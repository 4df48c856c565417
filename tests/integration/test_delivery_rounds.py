"""Delivery rounds in the app, on PostgreSQL: planning, the coordinator's edits and their refusals, approval through
the request state machine, the volunteer's round and each stop's report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.config import ConfigError, load_config, parse_food_hubs
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.rounds import RoundPlan
from can_crm.services.common import times
from can_crm.services.common.errors import Conflict, FieldErrors, NotFound
from can_crm.services.common.times import clock, parse_clock
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor
from can_crm.services.rounds import approval, edits, mine, plans
from can_crm.services.volunteers import tasks
from matching.rounds import plan_rounds
from tests.integration.rounds_helpers import (
    choices,
    driver,
    events,
    food,
    plan_now,
    rounds_config,  # noqa: F401 - the fixture
    rounds_of,
    stop_for,
    stops_on,
)

pytestmark = pytest.mark.usefixtures("rounds_config")


def reload(db: Any, model: Any, id_: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, id_)


def as_volunteer(make_user: Any, vol: Any) -> Actor:
    user = make_user("volunteer")
    vol.user_id = user.id
    unit_of_work.commit()
    return Actor(role="volunteer", user_id=user.id, volunteer_id=vol.id)


# -- planning --------------------------------------------------------------------------------------------------


def test_plan_puts_every_servable_stop_on_a_round_and_offers_nothing(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    near = [food(make_request, km) for km in (0.5, 1.0, 1.5, 2.0)]
    shopping = make_request(request={"type": "shopping"})
    unplaced = food(make_request, 0.3)
    resident = db.session.get(Resident, unplaced.resident_id)
    resident.lat = resident.lon = None
    unit_of_work.commit()
    a, b = driver(make_volunteer, "Ann Driver"), driver(make_volunteer, "Bob Driver")

    plan = plan_now(app, db, coord, choices((a, 10, "09:00", "13:00"), (b, 10, "09:00", "13:00")))

    assert plan.state == "draft" and plan.created_by_id == coord.id
    served = [s for r in rounds_of(plan) for s in stops_on(r)]
    assert {s.request_id for s in served} == {r.id for r in near}
    assert stop_for(plan, unplaced).unserved_reason == "location_unknown"
    assert shopping.id not in {s.request_id for s in served}
    for rnd in rounds_of(plan):
        arrivals = [s.arrival_min for s in stops_on(rnd)]
        assert arrivals == sorted(arrivals) and all(9 * 60 <= t <= 13 * 60 for t in arrivals)
    assert plan.total_km == pytest.approx(sum(r.km for r in rounds_of(plan)), abs=1e-3)
    assert plan.served_by_urgency == {"3": 0, "2": 4, "1": 0}
    # A person decides: nothing is offered yet.
    assert all(reload(db, HelpRequest, r.id).status == "triaged" for r in near)


def test_the_planner_searches_with_the_configured_workers(
    app: Any,
    db: Any,
    make_request: Any,
    make_volunteer: Any,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    asked: list[int] = []

    def planner(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["workers"])
        return plan_rounds(*args, **kwargs)

    monkeypatch.setattr(plans, "plan_rounds", planner)
    monkeypatch.setitem(app.config, "ROUNDS_WORKERS", 2)
    stops = [food(make_request, km) for km in (0.5, 1.0)]
    a = driver(make_volunteer, "Ann Driver")
    plan = plan_now(app, db, make_user("coordinator"), choices((a, 10, "09:00", "13:00")))
    assert asked == [2] and {s.request_id for r in rounds_of(plan) for s in stops_on(r)} == {r.id for r in stops}
    # The setting: 1 by default (the web and the jobs share the machine), and never less or a word.
    (tmp_path / "secret_key").write_text("k" * 64)
    monkeypatch.delenv("ROUNDS_WORKERS", raising=False)
    assert load_config(tmp_path, "development").ROUNDS_WORKERS == 1
    monkeypatch.setenv("ROUNDS_WORKERS", "2")
    assert load_config(tmp_path, "development").ROUNDS_WORKERS == 2
    for bad, message in (("0", "between 1 and 64"), ("two", "whole number")):
        monkeypatch.setenv("ROUNDS_WORKERS", bad)
        with pytest.raises(ConfigError, match=message):
            load_config(tmp_path, "development")


def test_a_full_car_leaves_the_least_urgent_stop_out_with_its_reason(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    urgent = food(make_request, 1.0, urgency=3)
    soon = food(make_request, 0.5, urgency=2)
    routine = food(make_request, 0.2, urgency=1)
    plan = plan_now(app, db, make_user("coordinator"), choices((driver(make_volunteer), 2, "09:00", "13:00")))
    assert {s.request_id for s in stops_on(rounds_of(plan)[0])} == {urgent.id, soon.id}
    assert stop_for(plan, routine).unserved_reason == "no_room_on_any_round"


@pytest.mark.parametrize(
    ("row", "window", "field", "message"),
    [
        ({"include": None}, ("09:00", "17:00"), "vehicles", "Choose at least one volunteer"),
        ({"capacity": ""}, ("09:00", "17:00"), "capacity", "Enter how many parcels"),
        ({"capacity": "ten"}, ("09:00", "17:00"), "capacity", "whole number from 1 to 500"),
        ({"capacity": "0"}, ("09:00", "17:00"), "capacity", "whole number from 1 to 500"),
        ({"capacity": "99999999999999999999"}, ("09:00", "17:00"), "capacity", "whole number from 1 to 500"),
        ({"capacity": "\u00b2"}, ("09:00", "17:00"), "capacity", "whole number from 1 to 500"),
        ({"shift_start": "25:00"}, ("09:00", "17:00"), "shift_start", "as a time like 09:30"),
        ({"shift_end": "08:00"}, ("09:00", "17:00"), "shift_end", "must be later than when it starts"),
        ({"shift_end": ""}, ("09:00", "17:00"), "shift_end", "Enter when"),
        ({}, ("17:00", "09:00"), "window_end", "must be later than when they may start"),
        ({}, ("nine", "17:00"), "window_start", "as a time like 09:30"),
    ],
)
def test_bad_planning_choices_are_refused_on_their_field(
    db: Any, make_volunteer: Any, make_user: Any, row: dict[str, Any], window: tuple[str, str], field: str, message: str
) -> None:
    vol = driver(make_volunteer)
    data = choices((vol, 10, "09:00", "13:00"), window=window)
    data["vehicles"][vol.id].update(row)
    with pytest.raises(FieldErrors) as exc:
        plans.start_plan(make_user("coordinator"), data)
    key = field if field in ("vehicles", "window_start", "window_end") else f"v{vol.id}-{field}"
    assert message in exc.value.fields[key]
    assert db.session.query(RoundPlan).count() == 0


def test_only_available_drivers_may_drive_a_round(db: Any, make_volunteer: Any, make_user: Any) -> None:
    walker = make_volunteer(name="Wal Walker", skills=["shopping"], transport="walk")
    with pytest.raises(FieldErrors) as exc:
        plans.start_plan(make_user("coordinator"), choices((walker, 10, "09:00", "13:00")))
    assert "Choose volunteers from the list" in exc.value.fields["vehicles"]
    data = choices((driver(make_volunteer), 10, "09:00", "13:00"))
    data["hub"] = "Nowhere"
    with pytest.raises(FieldErrors) as exc:
        plans.start_plan(make_user("coordinator"), data)
    assert exc.value.fields == {"hub": "Choose the food hub the rounds start from"}


def test_clock_and_food_hubs_config() -> None:
    assert (parse_clock("9:30"), parse_clock("09.05"), parse_clock("17"), parse_clock("24:00")) == (
        570,
        545,
        1020,
        None,
    )
    assert parse_clock("\u0669:00") is None and clock(570.4) == "09:30"
    assert parse_food_hubs("Hall@51.5,-0.2; Depot@51.4,-0.1") == (("Hall", 51.5, -0.2), ("Depot", 51.4, -0.1))
    for bad in ("Hall", "@51,0", "Hall@91,0", "Hall@a,b", "A@1,1;A@2,2", " ; "):
        with pytest.raises(ConfigError):
            parse_food_hubs(bad)


# -- edits -------------------------------------------------------------------------------------------------------


@pytest.fixture
def two_rounds(app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any) -> dict[str, Any]:
    """Ann's car and Bob's take 2 parcels each; four stops: both cars are full."""
    reqs = [food(make_request, km) for km in (0.5, 1.0, 1.5, 2.0)]
    ann, bob = driver(make_volunteer, "Ann Driver"), driver(make_volunteer, "Bob Driver")
    plan = plan_now(app, db, make_user("coordinator"), choices((ann, 2, "09:00", "13:00"), (bob, 2, "09:00", "13:00")))
    first, second = rounds_of(plan)
    return {"plan": plan, "requests": reqs, "ann": first, "bob": second, "volunteers": (ann, bob)}


def test_moving_a_stop_onto_a_full_car_is_refused_and_changes_nothing(db: Any, two_rounds: dict[str, Any]) -> None:
    plan, ann, bob = two_rounds["plan"], two_rounds["ann"], two_rounds["bob"]
    ann_stops, bob_stops = stops_on(ann), stops_on(bob)
    assert len(ann_stops) == 2  # full
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, bob_stops[0].id, "move", str(ann.id))
    assert "Ann Driver's car would carry 3 parcels, more than the 2 it takes" in exc.value.message
    assert "Nothing was changed" in exc.value.message
    assert [s.id for s in stops_on(ann)] == [s.id for s in ann_stops]


def test_a_move_that_would_run_past_the_shift_is_refused(db: Any, two_rounds: dict[str, Any]) -> None:
    plan, ann, bob = two_rounds["plan"], two_rounds["ann"], two_rounds["bob"]
    bob.capacity, bob.shift_end_min = 10, int(bob.end_min or 0) + 1  # room in the car, not in the day
    unit_of_work.commit()
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, stops_on(ann)[0].id, "move", str(bob.id))
    assert "Bob Driver's round would be back at the hub at" in exc.value.message
    assert "after the shift ends at" in exc.value.message


def test_a_reorder_that_misses_a_delivery_window_is_refused(db: Any, two_rounds: dict[str, Any]) -> None:
    plan, bob = two_rounds["plan"], two_rounds["bob"]
    first = stops_on(bob)[0]
    first.window_end_min = int(first.arrival_min or 0) + 1  # must be served about when it is now
    unit_of_work.commit()
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, first.id, "down")
    reference = reload(db, HelpRequest, first.request_id).reference
    assert f"Bob Driver's round would reach {reference} at" in exc.value.message
    assert "after its delivery window closes at" in exc.value.message
    assert stops_on(bob)[0].id == first.id


def test_remove_and_put_back_re_time_the_round(db: Any, two_rounds: dict[str, Any]) -> None:
    plan, bob = two_rounds["plan"], two_rounds["bob"]
    before = stops_on(bob)
    back_before = bob.end_min
    message = edits.edit_stop(plan.id, before[0].id, "remove")
    unit_of_work.commit()
    assert "taken off Bob Driver's round" in message
    removed = reload(db, type(before[0]), before[0].id)
    assert (removed.round_id, removed.unserved_reason, removed.arrival_min) == (None, "removed_by_coordinator", None)
    bob_now = reload(db, type(bob), bob.id)
    assert [s.id for s in stops_on(bob_now)] == [s.id for s in before[1:]]
    assert bob_now.end_min < back_before  # one door fewer (the stops lie on one road east: the km may not change)
    assert reload(db, RoundPlan, plan.id).served_by_urgency["2"] == sum(len(stops_on(r)) for r in rounds_of(plan))

    message = edits.edit_stop(plan.id, removed.id, "move", str(bob.id))
    unit_of_work.commit()
    assert "of Bob Driver's round" in message
    assert {s.id for s in stops_on(bob)} == {s.id for s in before}
    arrivals = [s.arrival_min for s in stops_on(bob)]
    assert arrivals == sorted(arrivals)


def test_up_and_down_swap_neighbours(db: Any, two_rounds: dict[str, Any]) -> None:
    plan, bob = two_rounds["plan"], two_rounds["bob"]
    a, b = stops_on(bob)[:2]
    edits.edit_stop(plan.id, b.id, "up")
    unit_of_work.commit()
    assert [s.id for s in stops_on(bob)][:2] == [b.id, a.id]
    with pytest.raises(Conflict, match="already the first stop"):
        edits.edit_stop(plan.id, b.id, "up")


@pytest.mark.parametrize(
    ("action", "round_id", "error"),
    [
        ("explode", None, "Choose what to do with the stop"),
        (None, None, "Choose what to do with the stop"),
        ("move", "abc", "Choose the round to move the stop to"),
        ("move", "99999999999", "No such round"),
        ("move", "2147483647", "Choose a round of this plan"),
    ],
)
def test_bad_edits_are_field_errors(
    db: Any, two_rounds: dict[str, Any], action: Any, round_id: Any, error: str
) -> None:
    plan = two_rounds["plan"]
    stop = stops_on(two_rounds["bob"])[0]
    with pytest.raises(FieldErrors) as exc:
        edits.edit_stop(plan.id, stop.id, action, round_id)
    assert error in exc.value.message


def test_stops_and_plans_that_are_not_there_are_not_found(db: Any, two_rounds: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        edits.edit_stop(two_rounds["plan"].id, 2**31 - 1, "remove")
    with pytest.raises(NotFound):
        edits.edit_stop(2**31 + 5, 1, "remove")


# -- approval -----------------------------------------------------------------------------------------------------


def test_approval_offers_each_stop_through_the_state_machine_with_structured_events(
    db: Any, two_rounds: dict[str, Any], make_user: Any
) -> None:
    plan, bob = two_rounds["plan"], two_rounds["bob"]
    coord = make_user("coordinator")
    on_rounds = [s for r in rounds_of(plan) for s in stops_on(r)]
    offered = approval.approve_plan(plan.id, coord)
    unit_of_work.commit()
    assert offered == len(on_rounds)
    plan = reload(db, RoundPlan, plan.id)
    assert (plan.state, plan.approved_by_id) == ("approved", coord.id)
    for n, stop in enumerate(stops_on(bob), start=1):
        request = reload(db, HelpRequest, stop.request_id)
        assert (request.status, request.volunteer_id) == ("matched", bob.volunteer_id)
        kinds = [
            (e.kind, e.from_status, e.to_status, e.actor_id, e.actor_role, e.volunteer_id) for e in events(request)
        ]
        assert ("transition", "triaged", "matched", coord.id, "coordinator", bob.volunteer_id) in kinds
        assert ("delivery_round", None, None, coord.id, "coordinator", bob.volunteer_id) in kinds
        assert f"stop {n} of" in events(request)[-1].reason
    # Approved once: a second approval or edit is refused.
    with pytest.raises(Conflict, match="approved, not a draft"):
        approval.approve_plan(plan.id, coord)
    with pytest.raises(Conflict, match="approved, not a draft"):
        edits.edit_stop(plan.id, stops_on(bob)[0].id, "remove")


def test_approval_is_refused_when_a_request_moved_on_and_nothing_changes(
    db: Any, two_rounds: dict[str, Any], make_user: Any
) -> None:
    plan, bob = two_rounds["plan"], two_rounds["bob"]
    gone = reload(db, HelpRequest, stops_on(bob)[0].request_id)
    lifecycle.transition(gone, "cancelled", Actor(role="coordinator"), "Resident moved away")
    unit_of_work.commit()
    with pytest.raises(Conflict) as exc:
        approval.approve_plan(plan.id, make_user("coordinator"))
    assert f"{gone.reference} is now cancelled, not waiting for a volunteer: remove it" in exc.value.message
    assert reload(db, RoundPlan, plan.id).state == "draft"
    assert all(reload(db, HelpRequest, s.request_id).status == "triaged" for s in stops_on(bob)[1:])
    # The coordinator removes it, then approval goes through.
    edits.edit_stop(plan.id, stop_for(plan, gone).id, "remove")
    assert approval.approve_plan(plan.id, make_user("coordinator")) >= 1


def test_approval_is_refused_when_a_volunteer_became_unavailable(
    db: Any, two_rounds: dict[str, Any], make_user: Any
) -> None:
    ann_volunteer = two_rounds["volunteers"][0]
    ann_volunteer.paused_until = times.today()
    unit_of_work.commit()
    with pytest.raises(Conflict, match="Ann Driver's round cannot be approved"):
        approval.approve_plan(two_rounds["plan"].id, make_user("coordinator"))


def test_discard_offers_nothing(db: Any, two_rounds: dict[str, Any]) -> None:
    approval.discard_plan(two_rounds["plan"].id)
    unit_of_work.commit()
    assert reload(db, RoundPlan, two_rounds["plan"].id).state == "discarded"
    assert all(reload(db, HelpRequest, r.id).status == "triaged" for r in two_rounds["requests"])


# -- the volunteer's round ----------------------------------------------------------------------------------------


def test_volunteer_sees_addresses_only_after_accepting_and_reports_each_stop(
    db: Any, two_rounds: dict[str, Any], make_user: Any
) -> None:
    plan, bob_round = two_rounds["plan"], two_rounds["bob"]
    ann, bob = two_rounds["volunteers"]
    actor = as_volunteer(make_user, bob)
    approval.approve_plan(plan.id, make_user("coordinator"))
    unit_of_work.commit()

    (view,) = mine.my_rounds(bob)
    assert view.offered == len(view.stops) and view.maps_urls == []
    assert all(s.task is None and s.district for s in view.stops)
    assert [v.round_id for v in mine.my_rounds(ann)] == [two_rounds["ann"].id]  # each sees their own round only
    with pytest.raises(NotFound):
        mine.accept_round(ann, bob_round.id, actor)

    assert mine.accept_round(bob, bob_round.id, actor) == len(view.stops)
    unit_of_work.commit()
    (view,) = mine.my_rounds(bob)
    assert all(s.status == "accepted" and s.task is not None and s.task.name for s in view.stops)
    (url,) = view.maps_urls
    assert url.startswith("https://www.google.com/maps/dir/?api=1&origin=")
    assert url.count("%7C") == len(view.stops) - 1  # every stop a waypoint, in order, back to the hub

    first, second = view.stops[0], view.stops[1]
    tasks.report_progress(bob, first.reference, "delivered", None, "k1-delivered", actor)
    tasks.report_progress(bob, second.reference, "could_not_deliver", "nobody_home", "k2-cnd", actor)
    unit_of_work.commit()
    delivered = db.session.scalar(db.select(HelpRequest).where(HelpRequest.reference == first.reference))
    back = db.session.scalar(db.select(HelpRequest).where(HelpRequest.reference == second.reference))
    assert (delivered.status, back.status, back.volunteer_id) == ("delivered", "triaged", None)
    assert [e.to_status for e in events(delivered) if e.kind == "transition"][-3:] == [
        "accepted",
        "in_progress",
        "delivered",
    ]
    (view,) = mine.my_rounds(bob)
    statuses = {s.reference: s.status for s in view.stops}
    assert statuses[first.reference] == "delivered" and statuses[second.reference] == "gone"
    # The maps link no longer goes to the delivered stop or the one handed back.
    assert all(url.count("%7C") == max(0, len(view.stops) - 3) for url in view.maps_urls)


def test_declining_the_round_sends_every_stop_back_for_another_round(
    db: Any, two_rounds: dict[str, Any], make_user: Any
) -> None:
    bob, bob_round = two_rounds["volunteers"][1], two_rounds["bob"]
    actor = as_volunteer(make_user, bob)
    approval.approve_plan(two_rounds["plan"].id, make_user("coordinator"))
    unit_of_work.commit()
    n = mine.decline_round(bob, bob_round.id, actor, "Car broke down")
    unit_of_work.commit()
    assert n == len(stops_on(bob_round))
    assert all(reload(db, HelpRequest, s.request_id).status == "triaged" for s in stops_on(bob_round))
    assert mine.my_rounds(bob) == []
    with pytest.raises(NotFound, match="Nothing on this round"):
        mine.accept_round(bob, bob_round.id, actor)
