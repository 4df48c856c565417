"""Matching pages: start a run, watch it, decide on proposals; the admin's settings; who may see what."""

from __future__ import annotations

from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.models.matching import MatchingRun, MatchingSetting, MatchProposal
from can_crm.models.request import HelpRequest
from can_crm.services.requests import lifecycle
from tests.integration.matching_helpers import COORD, proposals, run_matching, triaged, volunteer


def reload(db: Any, model: Any, id_: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def coordinator(make_user: Any, login: Any) -> Any:
    return login(make_user("coordinator"))


def test_start_page_lists_types_and_recent_runs(app: Any, db: Any, coordinator: Any) -> None:
    run_matching(app, db)
    page = coordinator.get("/coordinator/matching")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="prescription"' in html and "Run 1" in html and "Matching" in html


def test_starting_a_run_redirects_to_its_page_which_refreshes_until_done(
    app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any
) -> None:
    volunteer(make_volunteer, 0.0, name="Near Person")
    req = triaged(make_request, 0.0)
    response = coordinator.post("/coordinator/matching", data={"request_types": ["shopping"]})
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    run = db.session.get(MatchingRun, run_id)
    assert run.request_types == ["shopping"]
    waiting = coordinator.get(f"/coordinator/matching/runs/{run_id}")  # the job may not have finished yet
    assert waiting.status_code == 200
    app.extensions["can_queue"].wait()
    done = coordinator.get(f"/coordinator/matching/runs/{run_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done
    assert req.reference in done and "Near Person" in done and "Approve selected" in done


def test_unknown_type_is_shown_next_to_the_field(db: Any, coordinator: Any) -> None:
    response = coordinator.post("/coordinator/matching", data={"request_types": ["groceries"]})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Unknown request type: groceries" in html and "<title>Error:" in html


def test_approve_selected_offers_the_request(
    app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any
) -> None:
    v = volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    run = run_matching(app, db)
    proposal = proposals(run)[req.id]
    response = coordinator.post(
        f"/coordinator/matching/runs/{run.id}/approve", data={"proposal_ids": [str(proposal.id)], "action": "selected"}
    )
    assert response.status_code == 302
    assert (reload(db, HelpRequest, req.id).status, db.session.get(HelpRequest, req.id).volunteer_id) == (
        "matched",
        v.id,
    )
    assert db.session.get(MatchProposal, proposal.id).decision == "approved"
    assert "Approved" in coordinator.get(f"/coordinator/matching/runs/{run.id}").get_data(as_text=True)


def test_approve_all(app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any) -> None:
    volunteer(make_volunteer, 0.0, capacity="5")
    reqs = [triaged(make_request, 0.0), triaged(make_request, 0.1)]
    run = run_matching(app, db)
    response = coordinator.post(f"/coordinator/matching/runs/{run.id}/approve", data={"action": "all"})
    assert response.status_code == 302
    assert {reload(db, HelpRequest, r.id).status for r in reqs} == {"matched"}


@pytest.mark.parametrize("ids", [[], ["abc"], ["999999"]])
def test_approve_without_a_valid_selection_is_refused(
    app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any, ids: list[str]
) -> None:
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    run = run_matching(app, db)
    response = coordinator.post(
        f"/coordinator/matching/runs/{run.id}/approve", data={"proposal_ids": ids, "action": "selected"}
    )
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)
    assert reload(db, HelpRequest, req.id).status == "triaged"


def test_override_without_a_note_shows_the_error_and_changes_nothing(
    app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any
) -> None:
    volunteer(make_volunteer, 0.0)
    other = volunteer(make_volunteer, 1.0, name="Other Person")
    req = triaged(make_request, 0.0)
    run = run_matching(app, db)
    pid = proposals(run)[req.id].id
    response = coordinator.post(
        f"/coordinator/matching/proposals/{pid}/override",
        data={f"p{pid}-volunteer_id": str(other.id), f"p{pid}-note": ""},
    )
    assert response.status_code == 400
    assert "Enter why you chose a different volunteer" in response.get_data(as_text=True)
    assert reload(db, HelpRequest, req.id).status == "triaged"
    response = coordinator.post(
        f"/coordinator/matching/proposals/{pid}/override",
        data={f"p{pid}-volunteer_id": str(other.id), f"p{pid}-note": "Speaks Polish"},
    )
    assert response.status_code == 302
    assert reload(db, HelpRequest, req.id).volunteer_id == other.id
    assert db.session.get(MatchProposal, pid).decision == "overridden"


def test_override_with_bad_volunteer_is_a_clear_error(
    app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any
) -> None:
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    pid = proposals(run_matching(app, db))[req.id].id
    for bad in ("", "nope", "424242"):
        response = coordinator.post(
            f"/coordinator/matching/proposals/{pid}/override",
            data={f"p{pid}-volunteer_id": bad, f"p{pid}-note": "Because"},
        )
        assert response.status_code == 400, bad
    assert reload(db, HelpRequest, req.id).status == "triaged"


def test_reject_is_recorded(app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any) -> None:
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    pid = proposals(run_matching(app, db))[req.id].id
    response = coordinator.post(f"/coordinator/matching/proposals/{pid}/reject", data={f"r{pid}-note": "Too far"})
    assert response.status_code == 302
    proposal = reload(db, MatchProposal, pid)
    assert (proposal.decision, proposal.decision_note) == ("rejected", "Too far")


def test_stale_proposal_is_refused_on_the_page(
    app: Any, db: Any, coordinator: Any, make_request: Any, make_volunteer: Any
) -> None:
    volunteer(make_volunteer, 0.0)
    req = triaged(make_request, 0.0)
    run = run_matching(app, db)
    pid = proposals(run)[req.id].id
    lifecycle.transition(db.session.get(HelpRequest, req.id), "cancelled", COORD, "Not needed")
    unit_of_work.commit()
    response = coordinator.post(
        f"/coordinator/matching/runs/{run.id}/approve", data={"proposal_ids": [str(pid)], "action": "selected"}
    )
    assert response.status_code == 409
    assert "out of date" in response.get_data(as_text=True)
    assert reload(db, MatchProposal, pid).decision == "pending"
    assert "Out of date" in coordinator.get(f"/coordinator/matching/runs/{run.id}").get_data(as_text=True)


def test_missing_run_and_proposal_are_404(db: Any, coordinator: Any) -> None:
    assert coordinator.get("/coordinator/matching/runs/999").status_code == 404
    assert coordinator.post("/coordinator/matching/proposals/999/reject", data={}).status_code == 404
    assert coordinator.post("/coordinator/matching/runs/999/approve", data={"action": "all"}).status_code == 404


@pytest.mark.parametrize("role", ["admin", "partner", "councillor", "volunteer"])
def test_matching_pages_are_for_coordinators_only(db: Any, make_user: Any, login: Any, role: str) -> None:
    client = login(make_user(role))
    assert client.get("/coordinator/matching").status_code == 403
    assert client.post("/coordinator/matching", data={}).status_code == 403
    assert client.get("/coordinator/matching/runs/1").status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "partner", "councillor", "volunteer"])
def test_settings_page_is_for_admins_only(db: Any, make_user: Any, login: Any, role: str) -> None:
    client = login(make_user(role))
    assert client.get("/admin/matching-settings").status_code == 403
    assert client.post("/admin/matching-settings", data={"shopping_auto_approve": "y"}).status_code == 403
    assert db.session.get(MatchingSetting, "shopping") is None


def test_signed_out_visitor_is_sent_to_sign_in(client: Any) -> None:
    assert client.get("/coordinator/matching").status_code == 302
    assert client.get("/admin/matching-settings").status_code == 302


def _settings_form(**overrides: str) -> dict[str, str]:
    types = ("food_parcel", "shopping", "prescription", "befriending", "transport", "dog_walking", "other")
    data = {f"{t}_interval_minutes": "60" for t in types}
    data.update(overrides)
    return data


def test_admin_saves_matching_settings(db: Any, make_user: Any, login: Any) -> None:
    admin = make_user("admin")
    client = login(admin)
    assert client.get("/admin/matching-settings").status_code == 200
    response = client.post(
        "/admin/matching-settings",
        data=_settings_form(shopping_auto_run="y", shopping_interval_minutes="15", shopping_auto_approve="y"),
    )
    assert response.status_code == 302
    setting = reload(db, MatchingSetting, "shopping")
    assert (setting.auto_run, setting.interval_minutes, setting.auto_approve, setting.updated_by_id) == (
        True,
        15,
        True,
        admin.id,
    )
    assert reload(db, MatchingSetting, "transport").auto_approve is False


def test_admin_bad_interval_is_shown_next_to_the_field(db: Any, make_user: Any, login: Any) -> None:
    client = login(make_user("admin"))
    response = client.post("/admin/matching-settings", data=_settings_form(shopping_interval_minutes="soon"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "How often to run matching for shopping must be a whole number" in html
    assert 'value="soon"' in html
    assert db.session.get(MatchingSetting, "shopping") is None


def test_navigation_has_matching_for_coordinators(db: Any, coordinator: Any) -> None:
    assert 'href="/coordinator/matching"' in coordinator.get("/coordinator/").get_data(as_text=True)
