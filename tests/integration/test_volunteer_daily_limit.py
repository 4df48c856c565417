"""The most tasks a volunteer takes in a day (`max_per_day`), beside the most they hold at once (`capacity`):
Nearby claims, matching runs, approvals and offers by hand all respect them, a new day gives it back, and bad
values are refused."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.models.base import utcnow
from can_crm.models.request import HelpRequest
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors
from can_crm.services.matching import decisions
from can_crm.services.matching import runs as matching_runs
from can_crm.services.requests.events import Actor
from can_crm.services.volunteers import nearby, workload
from tests.integration.matching_helpers import proposals, run_matching, triaged, volunteer
from tests.integration.volunteer_helpers import volunteer_with_account


def _deliver(client: Any, reference: str) -> None:
    for step in ("on_my_way", "delivered"):
        answer = client.post(
            f"/api/v1/me/tasks/{reference}/progress", json={"step": step, "idempotency_key": str(uuid.uuid4())}
        )
        assert answer.status_code == 200, answer.get_json()


def test_a_volunteer_who_took_their_days_tasks_can_claim_no_more_until_tomorrow(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any, monkeypatch: Any
) -> None:
    user, me = volunteer_with_account(make_user, make_volunteer, capacity="3", max_per_day="2")
    pool = [triaged(make_request) for _ in range(3)]
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    login(user)
    for req in pool[:2]:  # two claimed and delivered: none held now, but two taken today
        assert client.post(f"/api/v1/me/nearby/{req.reference}/claim").status_code == 200
        _deliver(client, req.reference)
    assert workload.load_of(me) == workload.Load(held=0, offered=0, accepted_today=2)

    refused = client.post(f"/api/v1/me/nearby/{pool[2].reference}/claim")
    assert refused.status_code == 409
    assert "as many tasks today as you said" in refused.get_json()["error"]["message"]
    page = client.post(f"/volunteer/nearby/{pool[2].reference}/claim", data={}, follow_redirects=True)
    assert "as many tasks today as you said" in page.get_data(as_text=True)
    listing = client.get("/volunteer/nearby").get_data(as_text=True)
    assert "see you tomorrow" in listing and pool[2].reference not in listing  # nothing listed they cannot take
    assert [v.id for v, _ in matching_runs.available_volunteers(times.today(), placed_only=True)] == []

    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(times, "utcnow", lambda: tomorrow)
    assert workload.load_of(me).room(me) == 2
    assert [(v.id, room) for v, room in matching_runs.available_volunteers(times.today(), placed_only=True)] == [
        (me.id, 2)
    ]


def test_waiting_offers_count_towards_the_day_and_an_approval_past_it_is_refused(
    app: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    me = volunteer(make_volunteer, 0.0, capacity="5", max_per_day="1")
    first, second = triaged(make_request, 0.0), triaged(make_request, 0.5)
    run = run_matching(app, db)
    made = proposals(run)
    # The run offers them one request only: one a day, however many they could hold.
    assert [p.volunteer_id for p in made.values()].count(me.id) == 1
    chosen = next(p for p in made.values() if p.volunteer_id == me.id)
    decisions.approve([chosen.id], None)
    unit_of_work.commit()
    assert workload.load_of(me) == workload.Load(held=1, offered=1, accepted_today=0)

    # A coordinator tries to offer them the other request from an older proposal: refused, with the reason.
    other = first if chosen.request_id == second.id else second
    stale_run = run_matching(app, db)
    assert me.id not in {p.volunteer_id for p in proposals(stale_run).values()}
    with pytest.raises(FieldErrors) as refused:
        decisions.override(proposals(stale_run)[other.id].id, str(me.id), None, "They know the resident")
    assert "as many tasks today as they said (1 a day)" in refused.value.fields["volunteer_id"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "The most tasks a day must be between 1 and 20"),
        (21, "The most tasks a day must be between 1 and 20"),
        ("3", "max_per_day must be a whole number"),
        (2.5, "max_per_day must be a whole number"),
    ],
)
def test_the_api_refuses_a_bad_daily_limit_by_its_field(
    client: Any, make_user: Any, login: Any, hf_postcode: str, value: Any, message: str
) -> None:
    login(make_user("coordinator"))
    body = {"name": "Pat Helper", "postcode": hf_postcode, "max_per_day": value}
    answer = client.post("/api/v1/volunteers", json=body)
    assert answer.status_code in (400, 422), answer.get_json()
    assert message in str(answer.get_json()["error"]), answer.get_json()


def test_the_api_sets_changes_and_clears_the_daily_limit(
    client: Any, make_user: Any, login: Any, hf_postcode: str
) -> None:
    login(make_user("coordinator"))
    made = client.post("/api/v1/volunteers", json={"name": "Pat Helper", "postcode": hf_postcode, "max_per_day": 4})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["max_per_day"] == 4
    path = f"/api/v1/volunteers/{made.get_json()['id']}"
    assert client.patch(path, json={"max_per_day": 2}).get_json()["max_per_day"] == 2
    assert client.patch(path, json={"max_per_day": None}).get_json()["max_per_day"] is None


def test_the_profile_page_keeps_a_bad_daily_limit_and_says_what_is_wrong(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, login: Any
) -> None:
    user, me = volunteer_with_account(make_user, make_volunteer)
    login(user)
    form = client.get("/volunteer/profile").get_data(as_text=True)
    assert "Most tasks you can take on in a day (optional)" in form
    answer = client.post(
        "/volunteer/profile",
        data={
            "name": me.name,
            "home_postcode": me.home_postcode,
            "max_km": "5",
            "capacity": "2",
            "max_per_day": "lots",
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "The most tasks a day must be a whole number" in page and 'value="lots"' in page
    ok = client.post(
        "/volunteer/profile",
        data={"name": me.name, "home_postcode": me.home_postcode, "max_km": "5", "capacity": "2", "max_per_day": "3"},
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(me), me.id).max_per_day == 3


def test_an_offer_by_hand_to_a_volunteer_at_their_limit_is_refused_and_the_list_says_who_is(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any, login: Any, headers: Any
) -> None:
    busy = volunteer(make_volunteer, 0.0, name="Busy Volunteer", capacity="1")
    free = volunteer(make_volunteer, 0.2, name="Free Volunteer", capacity="1")
    held, req = triaged(make_request, 0.0), triaged(make_request, 0.1)
    login(make_user("coordinator"))

    def offer(request: Any, volunteer_id: int) -> Any:
        return client.post(f"/coordinator/requests/{request.reference}/assign", data={"volunteer_id": volunteer_id})

    assert offer(held, busy.id).status_code == 302

    page = client.get(f"/coordinator/requests/{req.reference}").get_data(as_text=True)
    options = {line.split(">")[1].split(" – ")[0]: line for line in page.splitlines() if "<option value=" in line}
    assert options["Busy Volunteer"].endswith(" – at their limit (1 at once)</option>")
    assert "limit" not in options["Free Volunteer"]  # room: no mark
    refused = offer(req, busy.id)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f"Choose another volunteer: volunteer #{busy.id} has no spare capacity (1 at once)" in body
    assert 'href="#volunteer_id"' in body  # the GOV.UK error summary links to the field
    assert f'<option selected value="{busy.id}">' in body or f'value="{busy.id}" selected' in body  # choice kept
    api = client.post(f"/api/v1/requests/{req.reference}/assign", json={"volunteer_id": busy.id}, headers=headers)
    assert api.status_code == 422, api.get_json()
    assert api.get_json()["error"]["fields"]["volunteer_id"].startswith("Choose another volunteer: volunteer #")
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "triaged"

    assert offer(req, free.id).status_code == 302
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).volunteer_id == free.id


def test_an_offer_by_hand_past_the_days_limit_is_refused_with_that_reason(
    db: Any, make_request: Any, make_volunteer: Any
) -> None:
    from can_crm.services.common.errors import ValidationError
    from can_crm.services.requests import operations
    from tests.integration.matching_helpers import COORD

    me = volunteer(make_volunteer, 0.0, capacity="3", max_per_day="1")
    first, second = triaged(make_request, 0.0), triaged(make_request, 0.1)
    operations.assign_volunteer(first, me.id, COORD)
    unit_of_work.commit()
    with pytest.raises(ValidationError) as refused:
        operations.assign_volunteer(second, me.id, COORD)
    assert refused.value.message == (
        f"Choose another volunteer: volunteer #{me.id} has taken as many tasks today as they said (1 a day)"
    )
    assert refused.value.field == "volunteer_id"
    # A delivery round fills a car by its parcels, not by these limits: it may still offer the stop.
    operations.assign_volunteer(second, me.id, COORD, reason="Offered as a stop of a round", within_limits=False)
    unit_of_work.commit()
    assert second.status == "matched"


def test_the_nearby_page_reads_the_load_with_its_rows_and_agrees_with_why_full_and_list_nearby(
    db: Any, make_request: Any, make_volunteer: Any
) -> None:
    """Nearby's page reads the volunteer's load in the statement that reads its rows (`nearby.shown`): the same
    answer as `why_full` and `list_nearby` apart, with room, at their limit at once, at their limit for the day, and
    with nothing near (the statement's one row carries the load alone)."""
    me = make_volunteer(capacity="2", max_per_day="3")
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()

    def agrees() -> tuple[str | None, list[str]]:
        full, offers = nearby.shown(me)
        assert full == nearby.why_full(me)
        assert offers == ([] if full else nearby.list_nearby(me))
        return full, [o.reference for o in offers]

    assert agrees() == (None, [])  # nothing near: the load alone
    pool = sorted((triaged(make_request, type="shopping") for _ in range(4)), key=lambda r: r.reference)
    assert agrees() == (None, [r.reference for r in pool])
    for req in pool[:2]:
        nearby.claim(me, req.reference, Actor(role="volunteer", volunteer_id=me.id))
        unit_of_work.commit()
    full, shown = agrees()  # two held, two at once: full
    assert full is not None and "at once" in full and shown == []
    me.capacity = 5
    unit_of_work.commit()
    assert agrees() == (None, [r.reference for r in pool[2:]])
    nearby.claim(me, pool[2].reference, Actor(role="volunteer", volunteer_id=me.id))
    unit_of_work.commit()
    full, shown = agrees()  # three accepted today, three a day: full until tomorrow
    assert full is not None and "today" in full and shown == []
    me.max_per_day = None  # no daily limit: the statement counts none of the day's
    unit_of_work.commit()
    assert agrees() == (None, [pool[3].reference])
