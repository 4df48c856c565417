"""Food-parcel requests carry their own parcels and delivery window, on PostgreSQL: the triage form and the JSON API
take them and refuse bad input on its field; the planner honours each stop's window (cut to the plan's) and counts
its parcels against the car; the coordinator's edits refuse a move that breaks a stop's own window; the pages show
parcels and window per stop."""

from __future__ import annotations

from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.config import ConfigError, parse_delivery_windows
from can_crm.models.request import HelpRequest
from can_crm.services.common.errors import Conflict, FieldErrors
from can_crm.services.requests.events import Actor
from can_crm.services.rounds import approval, edits
from tests.integration.matching_helpers import triaged
from tests.integration.rounds_helpers import (
    choices,
    driver,
    plan_now,
    rounds_config,  # noqa: F401 - the fixture
    rounds_of,
    stop_for,
    stops_on,
)

pytestmark = pytest.mark.usefixtures("rounds_config")
COORD = Actor(role="coordinator")
NOON, TWO_PM = 12 * 60, 14 * 60


def parcel(make_request: Any, at_km: float, urgency: int = 2, **delivery: Any) -> HelpRequest:
    """A triaged food-parcel request `at_km` east of the hub, with its parcels and window set at triage."""
    return triaged(make_request, at_km, urgency=urgency, type="food_parcel", **delivery)


def reload(db: Any, req: HelpRequest) -> HelpRequest:
    db.session.expire_all()
    found = db.session.get(HelpRequest, req.id)
    assert found is not None
    return found


def body(postcode: str, **request: Any) -> dict[str, Any]:
    return {
        "resident": {"name": "Ada Parcel", "address": "1 High Street", "postcode": postcode, "phone": "07911 123456"},
        "type": "food_parcel",
        "details": "A parcel for a family",
        **request,
    }


# -- the service's rule -------------------------------------------------------------------------------------------


def test_a_food_parcel_is_one_parcel_at_any_time_unless_told_and_other_types_carry_none(
    db: Any, make_request: Any
) -> None:
    plain = make_request(request={"type": "food_parcel"})
    assert (plain.parcels, plain.delivery_window, plain.delivery_from_min) == (1, "any", None)
    between = make_request(
        request={"type": "food_parcel", "parcels": "3", "delivery_window": "between", "delivery_from": "14:00",
                 "delivery_to": "16:30"}
    )  # fmt: skip
    assert (between.parcels, between.delivery_window, between.delivery_from_min, between.delivery_to_min) == (
        3,
        "between",
        TWO_PM,
        16 * 60 + 30,
    )
    shopping = make_request(request={"type": "shopping"})
    assert (shopping.parcels, shopping.delivery_window) == (None, None)
    with pytest.raises(FieldErrors) as exc:
        make_request(request={"type": "shopping", "parcels": "2"})
    assert exc.value.fields == {"parcels": "Parcels and a delivery time can only be given for a food-parcel request"}


# -- the JSON API ---------------------------------------------------------------------------------------------------


def test_api_creates_and_triages_parcels_and_window(client: Any, db: Any, headers: Any, hf_postcode: str) -> None:
    created = client.post(
        "/api/v1/requests", json=body(hf_postcode, parcels=3, delivery_window="morning"), headers=headers
    )
    assert created.status_code == 201, created.get_json()
    out = created.get_json()
    assert (out["parcels"], out["delivery_window"], out["delivery_from"], out["delivery_to"]) == (
        3,
        "morning",
        "09:00",
        "12:00",
    )
    default = client.post("/api/v1/requests", json=body(hf_postcode, details="Another"), headers=headers).get_json()
    assert (default["parcels"], default["delivery_window"], default["delivery_from"]) == (1, "any", None)

    url = f"/api/v1/requests/{out['reference']}/triage"
    triage = {"urgency": 2, "delivery_window": "between", "delivery_from": "14:00", "delivery_to": "16:30"}
    response = client.post(url, json=triage, headers=headers)
    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert (out["parcels"], out["delivery_window"], out["delivery_from"], out["delivery_to"]) == (
        3,
        "between",
        "14:00",
        "16:30",
    )
    again = client.get(f"/api/v1/requests/{out['reference']}", headers=headers).get_json()
    assert again["delivery_window"] == "between" and again["parcels"] == 3


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"parcels": 0}, "parcels", "How many parcels must be a whole number from 1 to 20"),
        ({"parcels": 21}, "parcels", "How many parcels must be a whole number from 1 to 20"),
        ({"parcels": "3"}, "parcels", "parcels must be a whole number"),
        ({"parcels": True}, "parcels", "parcels must be a whole number"),
        ({"delivery_window": "noon"}, "delivery_window", "Select when the resident can take a delivery from the list"),
        ({"delivery_window": "between"}, "delivery_from", "Enter the earliest time for a delivery"),
        (
            {"delivery_window": "between", "delivery_from": "16:00", "delivery_to": "14:00"},
            "delivery_to",
            "The latest time for a delivery must be later than the earliest",
        ),
        (
            {"delivery_window": "between", "delivery_from": "25:00", "delivery_to": "26:00"},
            "delivery_from",
            "Enter the earliest time for a delivery as a time like 14:30",
        ),
        ({"delivery_window": "morning", "delivery_from": "10:00"}, "delivery_from", "Give times only when"),
        ({"type": "shopping", "parcels": 2}, "parcels", "can only be given for a food-parcel request"),
    ],
)
def test_api_refuses_bad_parcels_and_windows_with_422_on_the_field(
    client: Any, db: Any, headers: Any, hf_postcode: str, fields: dict[str, Any], key: str, message: str
) -> None:
    response = client.post("/api/v1/requests", json=body(hf_postcode, **fields), headers=headers)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["error"]["fields"]
    assert message in str(errors[key])
    assert db.session.query(HelpRequest).count() == 0


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"parcels": 99}, "parcels", "from 1 to 20"),
        ({"delivery_from": "10:00"}, "delivery_from", "Send delivery_window as between"),
        ({"delivery_window": "between", "delivery_from": "10:00"}, "delivery_to", "Enter the latest time"),
    ],
)
def test_api_triage_refuses_bad_delivery_fields_and_changes_nothing(
    client: Any, db: Any, headers: Any, make_request: Any, fields: dict[str, Any], key: str, message: str
) -> None:
    req = make_request(request={"type": "food_parcel", "parcels": "2", "delivery_window": "evening"})
    response = client.post(f"/api/v1/requests/{req.reference}/triage", json=fields, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["error"]["fields"][key]
    req = reload(db, req)
    assert (req.status, req.parcels, req.delivery_window) == ("new", 2, "evening")


def test_api_triage_of_another_type_refuses_parcels(client: Any, db: Any, headers: Any, make_request: Any) -> None:
    req = make_request()
    response = client.post(f"/api/v1/requests/{req.reference}/triage", json={"parcels": 2}, headers=headers)
    assert response.status_code == 422
    assert "food-parcel request" in response.get_json()["error"]["fields"]["parcels"]


def test_openapi_documents_the_delivery_fields(client: Any, db: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    request_in = next(v for k, v in schemas.items() if k.startswith("RequestIn"))
    assert {"parcels", "delivery_window", "delivery_from", "delivery_to"} <= set(request_in["properties"])
    assert request_in["properties"]["delivery_window"]["enum"] == ["any", "morning", "afternoon", "evening", "between"]
    triage_in = next(v for k, v in schemas.items() if k.startswith("TriageIn"))
    assert "delivery_window" in triage_in["properties"]


# -- the coordinator's triage form --------------------------------------------------------------------------------


def test_triage_form_asks_for_parcels_and_window_only_on_a_food_parcel(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    login(make_user("coordinator"))
    req = make_request(request={"type": "food_parcel"})
    page = client.get(f"/coordinator/requests/{req.reference}").get_data(as_text=True)
    assert "When can the resident take a delivery?" in page and "Morning (09:00 to 12:00)" in page
    assert 'name="parcels"' in page and 'name="delivery_from"' in page
    shopping = make_request()
    page = client.get(f"/coordinator/requests/{shopping.reference}").get_data(as_text=True)
    assert "When can the resident take a delivery?" not in page and 'name="parcels"' not in page

    form = {"urgency": "2", "min_dbs": "none", "due_by": ["", "", ""]}
    response = client.post(
        f"/coordinator/requests/{req.reference}/triage",
        data={**form, "parcels": "3", "delivery_window": "afternoon", "delivery_from": "junk", "delivery_to": ""},
    )
    assert response.status_code == 302  # the times are only read for "between two times"
    req = reload(db, req)
    assert (req.status, req.parcels, req.delivery_window, req.delivery_from_min) == ("triaged", 3, "afternoon", None)
    page = client.get(f"/coordinator/requests/{req.reference}").get_data(as_text=True)
    assert "3, afternoon (12:00 to 17:00)" in page

    response = client.post(
        f"/coordinator/requests/{req.reference}/triage",
        data={**form, "parcels": "2", "delivery_window": "between", "delivery_from": "10:00", "delivery_to": "11:30"},
    )
    assert response.status_code == 302
    req = reload(db, req)
    assert (req.parcels, req.delivery_window, req.delivery_from_min, req.delivery_to_min) == (2, "between", 600, 690)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"parcels": "lots"}, "How many parcels must be a whole number from 1 to 20"),
        ({"parcels": "0"}, "How many parcels must be a whole number from 1 to 20"),
        ({"delivery_window": "noon"}, "Select when the resident can take a delivery from the list"),
        ({"delivery_window": "between", "delivery_from": "", "delivery_to": "11:00"}, "Enter the earliest time"),
        (
            {"delivery_window": "between", "delivery_from": "15:00", "delivery_to": "09:00"},
            "The latest time for a delivery must be later than the earliest",
        ),
        ({"delivery_window": "between", "delivery_from": "9am", "delivery_to": "11:00"}, "as a time like 14:30"),
    ],
)
def test_bad_delivery_fields_on_the_triage_form_are_shown_on_the_field_and_kept(
    client: Any,
    db: Any,
    make_user: Any,
    login: Any,
    make_request: Any,
    fields: dict[str, str],
    message: str,
) -> None:
    login(make_user("coordinator"))
    req = make_request(request={"type": "food_parcel"})
    data = {"urgency": "2", "min_dbs": "none", "due_by": ["", "", ""], "parcels": "1", "delivery_window": "any"}
    data.update(fields)
    response = client.post(f"/coordinator/requests/{req.reference}/triage", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "govuk-error-summary" in page and message in page
    for key, value in fields.items():
        if value and key != "delivery_window":  # a radio shows its choices, not what was posted
            assert f'value="{value}"' in page  # nothing the coordinator typed is lost
    req = reload(db, req)
    assert (req.status, req.parcels, req.delivery_window) == ("new", 1, "any")


# -- planning ----------------------------------------------------------------------------------------------------


def test_planning_keeps_each_stop_in_its_own_window_and_leaves_out_one_outside_the_plan(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    mornings = [parcel(make_request, km, delivery_window="morning") for km in (0.5, 1.0, 3.0)]
    afternoon = parcel(make_request, 0.7, delivery_window="between", delivery_from="14:00", delivery_to="15:00")
    evening = parcel(make_request, 0.4, delivery_window="evening")  # 17:00-20:00: the plan delivers until 17:00
    anytime = parcel(make_request, 2.0)
    vol = driver(make_volunteer)

    plan = plan_now(app, db, make_user("coordinator"), choices((vol, 20, "09:00", "17:00")))

    on_round = {s.request_id: s for s in stops_on(rounds_of(plan)[0])}
    assert set(on_round) == {r.id for r in [*mornings, afternoon, anytime]}
    for req in mornings:
        stop = on_round[req.id]
        assert (stop.window_start_min, stop.window_end_min) == (9 * 60, NOON)
        assert stop.arrival_min is not None and stop.arrival_min <= NOON  # never after noon
    late = on_round[afternoon.id]
    assert late.arrival_min is not None and TWO_PM <= late.arrival_min <= 15 * 60
    assert (on_round[anytime.id].window_start_min, on_round[anytime.id].window_end_min) == (9 * 60, 17 * 60)
    assert stop_for(plan, evening).unserved_reason == "window_outside_plan"


def test_a_three_parcel_stop_counts_three_against_the_car(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    big = parcel(make_request, 1.0, urgency=3, parcels="3")
    small = [parcel(make_request, km, urgency=1) for km in (0.5, 0.8)]
    plan = plan_now(app, db, make_user("coordinator"), choices((driver(make_volunteer), 4, "09:00", "13:00")))

    stops = stops_on(rounds_of(plan)[0])
    assert big.id in {s.request_id for s in stops}
    assert stop_for(plan, big).parcels == 3
    assert sum(s.parcels for s in stops) == 4 and len(stops) == 2
    left = [stop_for(plan, r) for r in small if r.id not in {s.request_id for s in stops}]
    assert [s.unserved_reason for s in left] == ["no_room_on_any_round"]


# -- the coordinator's edits ---------------------------------------------------------------------------------------


def test_edits_refuse_a_move_that_breaks_a_stops_own_window(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    morning = parcel(make_request, 1.0, delivery_window="morning")
    afternoon = parcel(make_request, 1.2, delivery_window="between", delivery_from="14:00", delivery_to="16:00")
    evening = parcel(make_request, 0.5, delivery_window="evening")
    plan = plan_now(app, db, make_user("coordinator"), choices((driver(make_volunteer), 10, "09:00", "17:00")))
    rnd = rounds_of(plan)[0]
    order = [s.request_id for s in stops_on(rnd)]
    assert order == [morning.id, afternoon.id]

    # The morning stop moved after the 14:00 one would be reached after noon: refused, nothing changed.
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, stop_for(plan, morning).id, "down")
    assert "after its delivery window closes at 12:00" in exc.value.message
    unit_of_work.rollback()
    assert [s.request_id for s in stops_on(rnd)] == order
    # The 14:00 stop moved first is fine: the car waits until its window opens, then the morning stop is late.
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, stop_for(plan, afternoon).id, "up")
    assert "closes at 12:00" in exc.value.message
    unit_of_work.rollback()

    # The evening stop is outside the plan's hours: it cannot be put on a round by hand either.
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, stop_for(plan, evening).id, "move", str(rnd.id))
    assert "evening (17:00 to 20:00)" in exc.value.message and "09:00 to 17:00" in exc.value.message
    unit_of_work.rollback()


def test_edits_count_a_stops_own_parcels_against_the_car(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    big = parcel(make_request, 0.6, parcels="3")
    ann, bob = driver(make_volunteer, "Ann Driver"), driver(make_volunteer, "Bob Driver")
    plan = plan_now(app, db, make_user("coordinator"), choices((ann, 10, "09:00", "17:00"), (bob, 2, "09:00", "17:00")))
    first, second = rounds_of(plan)
    assert stop_for(plan, big).round_id == first.id  # three parcels never fit a car of two
    with pytest.raises(Conflict) as exc:
        edits.edit_stop(plan.id, stop_for(plan, big).id, "move", str(second.id))
    assert "Bob Driver's car would carry 3 parcels, more than the 2 it takes" in exc.value.message
    unit_of_work.rollback()
    assert stop_for(plan, big).round_id == first.id


# -- the pages -------------------------------------------------------------------------------------------------------


def test_plan_page_and_volunteer_round_show_parcels_and_window(
    app: Any, client: Any, db: Any, login: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    morning = parcel(make_request, 1.0, parcels="2", delivery_window="morning")
    evening = parcel(make_request, 0.5, delivery_window="evening")
    vol = driver(make_volunteer)
    vol_user = make_user("volunteer")
    vol.user_id = vol_user.id
    unit_of_work.commit()
    coord = make_user("coordinator")
    plan = plan_now(app, db, coord, choices((vol, 10, "09:00", "17:00")))
    login(coord)
    page = client.get(f"/coordinator/rounds/{plan.id}").get_data(as_text=True)
    row = page[page.index(f'id="stop-{stop_for(plan, morning).id}"') :]
    row = row[: row.index("</tr>")]
    assert morning.reference in row and "09:00 to 12:00" in row and '--numeric">2</td>' in row
    assert "Can take delivery" in page and "Evening (17:00 to 20:00)" in page
    assert "The resident cannot take delivery while this plan delivers" in page
    assert evening.reference in page

    approval.approve_plan(plan.id, coord)
    unit_of_work.commit()
    login(vol_user)
    page = client.get("/volunteer/round").get_data(as_text=True)
    assert morning.reference in page and "Deliver between" in page and "09:00 to 12:00" in page


# -- configuration -----------------------------------------------------------------------------------------------


def test_delivery_windows_configuration_is_checked_at_start() -> None:
    assert parse_delivery_windows("evening=18:00-21:00;morning=08:00-11:30;afternoon=11:30-18:00") == {
        "evening": (1080, 1260),
        "morning": (480, 690),
        "afternoon": (690, 1080),
    }
    for raw, message in [
        ("morning=09:00-12:00;afternoon=12:00-17:00", "must give the hours of evening"),
        ("morning=12:00-09:00;afternoon=12:00-17:00;evening=17:00-20:00", "morning must end later"),
        ("night=22:00-23:00", "must be like morning=09:00-12:00"),
        ("morning=9-12;afternoon=12:00-17:00;evening=17:00-20:00", "must be like morning=09:00-12:00"),
        ("morning=09:00-12:00;morning=09:00-12:00", "gives morning twice"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_delivery_windows(raw)
