"""Matching runs in the app: what goes into the engine, what comes out, and the decisions on it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import matching
from can_crm import unit_of_work
from can_crm.models.base import utcnow
from can_crm.models.matching import MatchingSetting, MatchProposal
from can_crm.models.request import HelpRequest
from can_crm.services.common import times
from can_crm.services.common.errors import Conflict, FieldErrors, Forbidden
from can_crm.services.matching import decisions
from can_crm.services.matching import runs as matching_runs
from can_crm.services.requests import lifecycle
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.events import Actor
from tests.integration.matching_helpers import COORD, matching_events, proposals, run_matching, triaged, volunteer


def reload(db: Any, model: Any, id_: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, id_)


def test_run_stores_exactly_what_the_engine_proposes(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    urgent = triaged(make_request, 0.5, urgency=3)
    routine = triaged(make_request, 0.6, urgency=1)
    lifting = triaged(make_request, 0.2, urgency=2, required_skills=["heavy_lifting"])
    near = volunteer(make_volunteer, 0.0, name="Near Person", capacity="1")
    far = volunteer(make_volunteer, 1.0, name="Far Person", capacity="1")

    reqs = [db.session.get(HelpRequest, r.id) for r in (urgent, routine, lifting)]
    expected = matching.solve(
        *matching_runs.build_instance(
            matching_runs._open_requests([]), matching_runs.available_volunteers(times.today(), placed_only=True)
        )
    )
    run = run_matching(app, db, coord)

    assert run.state == "proposed" and run.optimal
    assert (run.requests_considered, run.volunteers_considered) == (3, 2)
    got = proposals(run)
    assert set(got) == {r.id for r in reqs}
    for a in expected.assignments:
        p = got[int(a.request)]
        assert (p.volunteer_id, p.km, p.explanation, p.unmatched_reason) == (
            matching_runs.db_volunteer_id(a.volunteer),
            round(a.km, 3),
            a.explanation,
            None,
        )
    for u in expected.unmatched:
        p = got[int(u.request)]
        assert (p.volunteer_id, p.unmatched_reason, p.explanation) == (None, u.reason, u.detail)
    # Hand-checked: both volunteers serve the two ordinary requests; nobody can lift.
    assert {got[urgent.id].volunteer_id, got[routine.id].volunteer_id} == {near.id, far.id}
    assert got[lifting.id].unmatched_reason == "no_volunteer_with_skills"
    assert run.served_by_urgency == {"3": 1, "2": 0, "1": 1}
    assert all(p.decision == "pending" for p in got.values())
    # The requests themselves are untouched until a person decides.
    assert reload(db, HelpRequest, urgent.id).status == "triaged"


def test_paused_isolating_and_inactive_volunteers_never_appear(
    app: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = triaged(make_request, 0.0, urgency=3)
    today = times.today()
    paused = volunteer(make_volunteer, 0.0, name="Paused Person", paused_until=str(today + timedelta(days=3)))
    isolating = volunteer(make_volunteer, 0.0, name="Isolating Person", isolating_until=today + timedelta(days=5))
    inactive = volunteer(make_volunteer, 0.0, name="Inactive Person", active=False)
    ok = volunteer(make_volunteer, 3.0, name="Free Person")

    run = run_matching(app, db)
    assert run.volunteers_considered == 1
    assert proposals(run)[req.id].volunteer_id == ok.id
    view = matching_runs.run_view(run.id)
    offered = {v.id for v, _ in view.options}
    assert offered.isdisjoint({paused.id, isolating.id, inactive.id})


def test_volunteer_without_spare_capacity_is_left_out(
    app: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    busy = volunteer(make_volunteer, 0.0, name="Busy Person", capacity="1")
    other = volunteer(make_volunteer, 2.0, name="Other Person", capacity="2")
    held = triaged(make_request, 0.0)
    request_service.assign_volunteer(held, busy.id, COORD)
    unit_of_work.commit()
    req = triaged(make_request, 0.0)
    run = run_matching(app, db)
    assert run.volunteers_considered == 1
    assert proposals(run)[req.id].volunteer_id == other.id
    assert held.id not in proposals(run)  # matched requests are not in a run


def test_volunteer_who_declined_is_excluded_next_run(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> None:
    near = volunteer(make_volunteer, 0.0, name="Near Person")
    req = triaged(make_request, 0.0)
    request_service.assign_volunteer(req, near.id, COORD)
    lifecycle.transition(req, "triaged", Actor(role="volunteer", volunteer_id=near.id), "Not free today")
    unit_of_work.commit()

    run = run_matching(app, db)
    assert proposals(run)[req.id].unmatched_reason == "all_excluded"

    far = volunteer(make_volunteer, 2.0, name="Far Person")
    run = run_matching(app, db)
    assert proposals(run)[req.id].volunteer_id == far.id


def test_coordinator_unassigning_is_not_a_decline(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> None:
    near = volunteer(make_volunteer, 0.0, name="Near Person")
    req = triaged(make_request, 0.0)
    request_service.assign_volunteer(req, near.id, COORD)
    lifecycle.transition(req, "triaged", COORD, "Wrong day")
    unit_of_work.commit()
    assert proposals(run_matching(app, db))[req.id].volunteer_id == near.id


def test_volunteer_who_last_delivered_for_the_resident_is_kept(
    app: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    first = volunteer(make_volunteer, 1.0, name="Alpha Person")
    helper = volunteer(make_volunteer, 1.0, name="Beta Person")
    earlier = triaged(make_request, 0.0)
    request_service.assign_volunteer(earlier, helper.id, COORD)
    for to in ("accepted", "in_progress", "delivered"):
        lifecycle.transition(earlier, to, COORD)
    unit_of_work.commit()
    again = make_request(resident_id=earlier.resident_id)
    request_service.triage(again, {"urgency": "2"}, COORD)
    unit_of_work.commit()

    instance, _ = matching_runs.build_instance(
        matching_runs._open_requests([]), matching_runs.available_volunteers(times.today(), placed_only=True)
    )
    assert [r.preferred for r in instance] == [matching_runs.engine_volunteer_id(helper.id)]
    run = run_matching(app, db)
    assert proposals(run)[again.id].volunteer_id == helper.id != first.id


def test_a_new_run_supersedes_earlier_pending_proposals(
    app: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    first = run_matching(app, db)
    second = run_matching(app, db)
    assert proposals(first)[req.id].decision == "superseded"
    assert proposals(second)[req.id].decision == "pending"


def test_run_takes_only_the_chosen_types_and_lists_unlocated_residents_as_location_unknown(
    app: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    volunteer(make_volunteer, 0.0)
    shopping = triaged(make_request, 0.0, type="shopping")
    triaged(make_request, 0.0, type="prescription")
    unplaced = triaged(make_request, 0.0, type="shopping")
    resident = unplaced.resident_id
    from can_crm.models.resident import Resident

    r = db.session.get(Resident, resident)
    r.lat = r.lon = None
    unit_of_work.commit()
    run = run_matching(app, db, request_types=["shopping"])
    assert run.request_types == ["shopping"]
    found = proposals(run)
    assert set(found) == {shopping.id, unplaced.id}
    assert found[shopping.id].volunteer_id is not None
    assert (found[unplaced.id].volunteer_id, found[unplaced.id].unmatched_reason) == (None, "location_unknown")


@pytest.mark.parametrize("bad", [["groceries"], "nonsense", [1], {"a": 1}])
def test_unknown_request_type_is_refused(db: Any, bad: Any) -> None:
    with pytest.raises(FieldErrors) as exc:
        matching_runs.start_run(None, bad)
    assert "request_types" in exc.value.fields


# -- decisions ---------------------------------------------------------------------------------------


def _one_proposal(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> tuple[Any, Any, Any]:
    v = volunteer(make_volunteer, 0.0, name="Near Person")
    req = triaged(make_request, 0.0)
    run = run_matching(app, db)
    return proposals(run)[req.id], req, v


def test_approve_offers_the_request_and_records_the_decision(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    proposal, req, v = _one_proposal(app, db, make_request, make_volunteer)
    decisions.approve([proposal.id], coord)
    unit_of_work.commit()
    req = reload(db, HelpRequest, req.id)
    proposal = db.session.get(MatchProposal, proposal.id)
    assert (req.status, req.volunteer_id) == ("matched", v.id)
    assert (proposal.decision, proposal.decided_by_id) == ("approved", coord.id)
    assert proposal.decided_at is not None
    [event] = matching_events(req)
    assert event.actor_id == coord.id
    assert f"run #{proposal.run_id}" in event.reason and "approved" in event.reason
    assert "Person" not in event.reason  # ids only, no names


def test_override_offers_another_volunteer_with_the_reason(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    proposal, req, v = _one_proposal(app, db, make_request, make_volunteer)
    other = volunteer(make_volunteer, 4.0, name="Other Person")
    decisions.override(proposal.id, str(other.id), coord, "Knows the resident")
    unit_of_work.commit()
    req = reload(db, HelpRequest, req.id)
    proposal = db.session.get(MatchProposal, proposal.id)
    assert (req.status, req.volunteer_id) == ("matched", other.id)
    assert (proposal.decision, proposal.override_volunteer_id, proposal.decision_note) == (
        "overridden",
        other.id,
        "Knows the resident",
    )
    assert proposal.volunteer_id == v.id  # the engine's proposal is kept beside the decision
    [event] = matching_events(req)
    assert "overridden" in event.reason and "Knows" not in event.reason


def test_reject_keeps_the_request_triaged(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    proposal, req, _ = _one_proposal(app, db, make_request, make_volunteer)
    decisions.reject(proposal.id, coord, "Resident asked for a woman volunteer")
    unit_of_work.commit()
    proposal = reload(db, MatchProposal, proposal.id)
    assert (proposal.decision, proposal.decided_by_id) == ("rejected", coord.id)
    assert db.session.get(HelpRequest, req.id).status == "triaged"
    assert "rejected" in matching_events(req)[0].reason


def test_stale_proposal_is_refused_and_nothing_changes(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    proposal, req, v = _one_proposal(app, db, make_request, make_volunteer)
    lifecycle.transition(req, "cancelled", COORD, "Resident went to family")
    unit_of_work.commit()
    for decide in (
        lambda: decisions.approve([proposal.id], coord),
        lambda: decisions.reject(proposal.id, coord, "x"),
        lambda: decisions.override(proposal.id, str(v.id), coord, "x"),
    ):
        with pytest.raises(Conflict, match="out of date"):
            decide()
        unit_of_work.rollback()
    proposal = reload(db, MatchProposal, proposal.id)
    assert (proposal.decision, proposal.decided_by_id) == ("pending", None)
    assert db.session.get(HelpRequest, req.id).status == "cancelled"
    assert matching_events(req) == []


def test_batch_approval_is_all_or_nothing(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    volunteer(make_volunteer, 0.0, capacity="5")
    keep, gone = triaged(make_request, 0.0), triaged(make_request, 0.1)
    run = run_matching(app, db)
    got = proposals(run)
    lifecycle.transition(gone, "cancelled", COORD, "No longer needed")
    unit_of_work.commit()
    with pytest.raises(Conflict, match=gone.reference):
        decisions.approve([got[keep.id].id, got[gone.id].id], coord)
    unit_of_work.rollback()
    assert reload(db, HelpRequest, keep.id).status == "triaged"
    approved = decisions.approve_all(run.id, coord)  # only what is still in date
    assert [p.request_id for p in approved] == [keep.id]


def test_approval_refused_when_volunteer_became_unavailable(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    proposal, req, v = _one_proposal(app, db, make_request, make_volunteer)
    v = reload(db, type(v), v.id)
    v.isolating_until = times.today() + timedelta(days=7)
    unit_of_work.commit()
    with pytest.raises(Conflict, match="isolating"):
        decisions.approve([proposal.id], coord)


@pytest.mark.parametrize(
    ("volunteer_id", "note", "field"),
    [
        ("", "Because", "volunteer_id"),
        ("abc", "Because", "volunteer_id"),
        ("999999", "Because", "volunteer_id"),
        ("99999999999999", "Because", "volunteer_id"),
        ("OTHER", "", "note"),
        ("OTHER", "  ", "note"),
        ("OTHER", "<script>x</script>", "note"),
        ("SAME", "Because", "volunteer_id"),
    ],
)
def test_override_bad_input_is_refused(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any, volunteer_id: str, note: str, field: str
) -> None:
    coord = make_user("coordinator")
    proposal, req, v = _one_proposal(app, db, make_request, make_volunteer)
    other = volunteer(make_volunteer, 1.0, name="Other Person")
    chosen = {"OTHER": str(other.id), "SAME": str(v.id)}.get(volunteer_id, volunteer_id)
    with pytest.raises(FieldErrors) as exc:
        decisions.override(proposal.id, chosen, coord, note)
    assert field in exc.value.fields
    unit_of_work.rollback()
    assert reload(db, HelpRequest, req.id).status == "triaged"


# -- schedule and auto-approval ------------------------------------------------------------------------


def _settings(db: Any, user: Any, **per_type: dict[str, Any]) -> None:
    decisions.update_settings(user, per_type)
    unit_of_work.commit()


def test_only_an_admin_may_change_matching_settings(db: Any, make_user: Any) -> None:
    with pytest.raises(Forbidden):
        decisions.update_settings(
            make_user("coordinator"), {"shopping": {"auto_run": True, "auto_approve": True, "interval_minutes": "30"}}
        )


@pytest.mark.parametrize("interval", ["", "0", "4", "abc", "-5", "10081", "1.5", None])
def test_bad_interval_is_refused(db: Any, make_user: Any, interval: Any) -> None:
    with pytest.raises(FieldErrors) as exc:
        decisions.update_settings(make_user("admin"), {"shopping": {"auto_run": True, "interval_minutes": interval}})
    assert "shopping.interval_minutes" in exc.value.fields


def test_scheduled_run_waits_for_a_coordinator_without_auto_approval(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    _settings(db, make_user("admin"), shopping={"auto_run": True, "interval_minutes": "30", "auto_approve": False})
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    now = utcnow()
    run = matching_runs.run_scheduled(now)
    assert run is not None and run.automatic and run.request_types == ["shopping"]
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    assert matching_runs.run_scheduled(now + timedelta(minutes=10)) is None  # not due yet
    p = proposals(reload(db, type(run), run.id))[req.id]
    assert p.decision == "pending" and db.session.get(HelpRequest, req.id).status == "triaged"
    assert matching_runs.run_scheduled(now + timedelta(minutes=31)) is not None


def test_scheduled_run_auto_approves_only_when_an_admin_allowed_it(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    admin = make_user("admin")
    _settings(
        db,
        admin,
        shopping={"auto_run": True, "interval_minutes": "30", "auto_approve": True},
        prescription={"auto_run": True, "interval_minutes": "30", "auto_approve": False},
    )
    v = volunteer(make_volunteer, 0.0, capacity="5")
    shop = triaged(make_request, 0.0, type="shopping")
    pills = triaged(make_request, 0.0, type="prescription")
    run = matching_runs.run_scheduled(utcnow())
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    got = proposals(reload(db, type(run), run.id))
    auto = got[shop.id]
    assert (auto.decision, auto.decided_by_id) == ("approved", None)
    assert auto.decision_note == (
        f"auto-approved under setting changed by user #{admin.id} on {times.today().isoformat()}"
    )
    assert db.session.get(HelpRequest, shop.id).volunteer_id == v.id
    assert matching_events(shop)[0].actor_role == "system"
    assert got[pills.id].decision == "pending"
    assert db.session.get(HelpRequest, pills.id).status == "triaged"


def test_auto_approve_flag_not_set_by_an_admin_is_ignored(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    coord = make_user("coordinator")
    db.session.add(
        MatchingSetting(
            request_type="shopping",
            auto_run=True,
            auto_approve=True,
            interval_minutes=30,
            updated_by_id=coord.id,
            updated_at=utcnow(),
        )
    )
    unit_of_work.commit()
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    run = matching_runs.run_scheduled(utcnow())
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    assert proposals(reload(db, type(run), run.id))[req.id].decision == "pending"


def test_manual_run_never_auto_approves(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    _settings(db, make_user("admin"), shopping={"auto_run": False, "interval_minutes": "30", "auto_approve": True})
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    assert matching_runs.run_scheduled(utcnow()) is None  # auto_run is off
    run = run_matching(app, db, make_user("coordinator"))
    assert proposals(run)[req.id].decision == "pending"


# -- the command line ----------------------------------------------------------------------------------


def test_cli_runs_matching_and_scheduled_matching(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["run-matching", "--scheduled"])
    assert result.exit_code == 0 and "No scheduled matching is due" in result.output
    result = runner.invoke(args=["run-matching", "--type", "shopping"])
    assert result.exit_code == 0, result.output
    assert "finished: proposed" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(MatchProposal.request_id)) == req.id
    result = runner.invoke(args=["run-matching", "--type", "groceries"])
    assert result.exit_code == 2 and "Unknown request type: groceries" in result.output


def test_the_periodic_tick_starts_a_due_scheduled_run(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    from can_crm.jobs.sweeper import periodic
    from can_crm.models.matching import MatchingRun

    _settings(db, make_user("admin"), shopping={"auto_run": True, "interval_minutes": "30", "auto_approve": False})
    volunteer(make_volunteer, 0.0)
    triaged(make_request, 0.0)
    periodic()
    app.extensions["can_queue"].wait()
    runs = db.session.scalars(select(MatchingRun)).all()
    assert len(runs) == 1 and runs[0].automatic
    periodic()  # not due again for 30 minutes
    app.extensions["can_queue"].wait()
    assert db.session.scalar(select(func.count()).select_from(MatchingRun)) == 1
