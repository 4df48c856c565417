"""The delivery-round pages: the coordinator plans, edits and approves; the volunteer sees and reports their round.
Bad input gets a page with the message next to the field (never a 5xx), and each page is for its role only."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from can_crm import unit_of_work
from can_crm.models.request import HelpRequest
from can_crm.models.rounds import RoundPlan
from can_crm.services.matching import runs as matching_runs
from matching.model import Bound, MatchResult
from tests.conftest import sign_in
from tests.integration.error_page_helpers import assert_message_by_field, assert_plain_refusal
from tests.integration.matching_helpers import run_matching, triaged, volunteer
from tests.integration.rounds_helpers import (
    HUB,
    choices,
    driver,
    food,
    plan_now,
    rounds_config,  # noqa: F401 - the fixture
    rounds_of,
    stops_on,
)

pytestmark = pytest.mark.usefixtures("rounds_config")


def _form(vol: Any, **row: str) -> dict[str, str]:
    data = {
        "hub": HUB,
        "window_start": "09:00",
        "window_end": "17:00",
        f"v{vol.id}-include": "y",
        f"v{vol.id}-capacity": "10",
        f"v{vol.id}-shift_start": "09:00",
        f"v{vol.id}-shift_end": "13:00",
    }
    data.update({f"v{vol.id}-{k}": v for k, v in row.items()})
    return data


def test_coordinator_plans_edits_and_approves_on_the_pages(
    app: Any, client: Any, login: Any, make_user: Any, make_request: Any, make_volunteer: Any
) -> None:
    reqs = [food(make_request, km) for km in (0.5, 1.0, 1.5)]
    vol = driver(make_volunteer, "Ann Driver")
    login(make_user("coordinator"))
    page = client.get("/coordinator/rounds").get_data(as_text=True)
    assert "Ann Driver" in page and "<strong>3</strong> food-parcel requests waiting" in page

    bad = client.post("/coordinator/rounds", data=_form(vol, capacity="lots", shift_end="25:99"))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "How many parcels Ann Driver&#39;s car takes must be a whole number from 1 to 500" in text
    assert "Enter when Ann Driver&#39;s shift ends as a time like 09:30" in text
    assert 'value="lots"' in text and 'value="25:99"' in text  # nothing the coordinator typed is lost

    response = client.post("/coordinator/rounds", data=_form(vol))
    assert response.status_code == 302
    plan_id = int(response.headers["Location"].rsplit("/", 1)[1])
    app.extensions["can_queue"].wait()
    page = client.get(f"/coordinator/rounds/{plan_id}").get_data(as_text=True)
    assert "Ann Driver's round" in page and "Approve and offer to the volunteers" in page
    assert all(r.reference in page for r in reqs)

    plan = app.extensions["sqlalchemy"].session.get(RoundPlan, plan_id)
    stop = stops_on(rounds_of(plan)[0])[0]
    assert client.post(f"/coordinator/rounds/{plan_id}/stops/{stop.id}", data={"action": "fly"}).status_code == 400
    refused = client.post(f"/coordinator/rounds/{plan_id}/stops/{stop.id}", data={"action": "up"})
    assert refused.status_code == 409 and "already the first stop" in refused.get_data(as_text=True)
    removed = client.post(f"/coordinator/rounds/{plan_id}/stops/{stop.id}", data={"action": "remove"})
    assert removed.status_code == 302 and removed.headers["Location"].endswith(f"#stop-{stop.id}")
    assert "Taken off by a coordinator" in client.get(f"/coordinator/rounds/{plan_id}").get_data(as_text=True)
    assert client.post(f"/coordinator/rounds/{plan_id}/stops/999999", data={"action": "up"}).status_code == 404

    approved = client.post(f"/coordinator/rounds/{plan_id}/approve")
    assert approved.status_code == 302
    page = client.get(f"/coordinator/rounds/{plan_id}", follow_redirects=True).get_data(as_text=True)
    assert "Plan approved: 2 requests offered" in page and "Matched" in page
    again = client.post(f"/coordinator/rounds/{plan_id}/approve")
    assert again.status_code == 409 and "approved, not a draft" in again.get_data(as_text=True)
    assert client.get("/coordinator/rounds/2147483648").status_code == 404


def test_refused_edits_are_shown_by_the_stops_controls_and_a_finished_plan_says_why(
    app: Any, client: Any, login: Any, make_user: Any, make_request: Any, make_volunteer: Any
) -> None:
    reqs = [food(make_request, km) for km in (0.5, 1.0)]
    ann, bob = driver(make_volunteer, "Ann Driver"), driver(make_volunteer, "Bob Driver")
    user = make_user("coordinator")
    login(user)
    # Bob's shift is a minute long: his round can take no stop, so moving one there is refused.
    plan = plan_now(
        app, app.extensions["sqlalchemy"], user, choices((ann, 10, "09:00", "13:00"), (bob, 10, "09:00", "09:01"))
    )
    first, second = rounds_of(plan)
    full, empty = (first, second) if stops_on(first) else (second, first)
    stop = stops_on(full)[0]
    url = f"/coordinator/rounds/{plan.id}/stops/{stop.id}"

    bad = client.post(url, data={"action": "fly"})
    page = assert_message_by_field(bad, 400, f"stop-{stop.id}", "Choose what to do with the stop")
    assert f'aria-describedby="stop-{stop.id}-error"' in page

    refused = client.post(url, data={"action": "move", "round_id": str(empty.id)})
    page = assert_message_by_field(refused, 409, f"move-{stop.id}", "cannot go on Bob Driver&#39;s round")
    assert f'<option value="{empty.id}" selected>' in page  # the round chosen is kept
    assert f"{reqs[0].reference}" in page and "<title>Error: " in page

    assert client.post(f"/coordinator/rounds/{plan.id}/approve").status_code == 302
    for path, data in (
        (url, {"action": "fly"}),
        (url, {"action": "up"}),
        (f"/coordinator/rounds/{plan.id}/discard", {}),
    ):
        page = assert_plain_refusal(
            client.post(path, data=data), "This plan is approved, not a draft: nothing was changed"
        )
        assert 'href="#plan-state"' in page and 'http-equiv="refresh"' not in page


def test_volunteer_round_page_shows_details_after_accepting_and_reports_a_stop(
    app: Any, db: Any, client: Any, make_user: Any, make_request: Any, make_volunteer: Any
) -> None:
    from can_crm.services.rounds import approval

    reqs = [food(make_request, km) for km in (0.5, 1.0)]
    vol = driver(make_volunteer, "Ann Driver")
    user = make_user("volunteer")
    vol.user_id = user.id
    unit_of_work.commit()
    coord = make_user("coordinator")
    plan = plan_now(app, db, coord, choices((vol, 10, "09:00", "13:00")))
    approval.approve_plan(plan.id, coord)
    unit_of_work.commit()

    assert sign_in(client, user).status_code == 302
    page = client.get("/volunteer/round").get_data(as_text=True)
    assert "Accept the round" in page and reqs[0].reference in page
    assert "Margaret Okafor" not in page and "google.com/maps/dir" not in page
    assert client.post("/volunteer/round/99999/accept").status_code == 302  # not theirs: a message, no change
    response = client.post(f"/volunteer/round/{rounds_of(plan)[0].id}/accept")
    assert response.status_code == 302
    page = client.get("/volunteer/round").get_data(as_text=True)
    assert "Margaret Okafor" in page and "https://www.google.com/maps/dir/?api=1&amp;origin=" in page
    assert 'name="back_to" value="round"' in page

    first_id = stops_on(rounds_of(plan)[0])[0].request_id
    first = next(r.reference for r in reqs if r.id == first_id)
    done = client.post(
        f"/volunteer/tasks/{first}/progress",
        data={"step": "delivered", "idempotency_key": "abc123", "back_to": "round"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/volunteer/round#stop-{first}")
    db.session.expire_all()
    assert db.session.scalar(db.select(HelpRequest.status).where(HelpRequest.reference == first)) == "delivered"
    bad = client.post(
        f"/volunteer/tasks/{first}/progress", data={"step": "teleport", "idempotency_key": "x1", "back_to": "round"}
    )
    assert bad.status_code == 302 and bad.headers["Location"].endswith("/volunteer/round")


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("volunteer", "/coordinator/rounds", 403),
        ("partner", "/coordinator/rounds", 403),
        ("admin", "/coordinator/rounds", 403),
        ("coordinator", "/volunteer/round", 403),
        ("partner", "/volunteer/round", 403),
    ],
)
def test_each_rounds_page_is_for_its_role_only(client: Any, make_user: Any, role: str, path: str, status: int) -> None:
    assert sign_in(client, make_user(role)).status_code == 302
    assert client.get(path).status_code == status


def test_a_run_stopped_by_its_time_limit_shows_the_proven_bound(
    app: Any, db: Any, client: Any, login: Any, make_user: Any, make_request: Any, make_volunteer: Any
) -> None:
    assert app.config["MATCHING_TIME_LIMIT_SECONDS"] == 60
    req = triaged(make_request, 0.5, urgency=3)
    volunteer(make_volunteer, 0.0)
    seen: dict[str, Any] = {}

    def stopped(requests: Any, volunteers: Any, options: Any) -> MatchResult:
        seen["limit"] = options.time_limit_s
        return MatchResult((), (), {3: 0, 2: 0, 1: 0}, 0.0, False, bound=Bound({3: 1, 2: 0, 1: 0}, 0.25))

    with mock.patch.object(matching_runs.matching, "solve", stopped):
        run = run_matching(app, db, make_user("coordinator"))
    assert seen["limit"] == 60.0
    assert run.optimal is False and run.bound == {"served_by_urgency": {"1": 0, "2": 0, "3": 1}, "km_lower_bound": 0.25}
    login(make_user("coordinator"))
    page = client.get(f"/coordinator/matching/runs/{run.id}").get_data(as_text=True)
    assert "How far this may be from the best answer" in page and "0.2 km (this answer: 0.0 km)" in page
    assert req.reference not in page  # nothing was matched
