"""Nobody is turned away by our postcode directory: a real postcode it does not list yet is accepted on every
form and the API, flagged "location unknown", stands out in the queue, and a coordinator sets the location
(a nearby known postcode, or coordinates); until then matching lists it as `location_unknown` and the
out-of-area check waits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.enums import EventKind
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.services.requests import operations
from tests.integration.matching_helpers import COORD, proposals, run_matching, triaged, volunteer
from tests.integration.test_resident_form import form_data

# Well formed, and not in the generated test directory (which holds only synthetic London postcodes).
NEW_BUILD = "SW1A 2AA"


def resident_of(db: Any, reference: str) -> Resident:
    req = db.session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    return db.session.get(Resident, req.resident_id)


def test_public_form_accepts_a_postcode_the_directory_does_not_list(client: Any, db: Any) -> None:
    response = client.post("/request-help/form", data=form_data("sw1a2aa"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    req = db.session.scalar(select(HelpRequest))
    resident = db.session.get(Resident, req.resident_id)
    assert resident.postcode == NEW_BUILD
    assert resident.location_known is False and resident.location_source is None and resident.h3_fine is None


def test_a_malformed_postcode_is_still_refused(client: Any, db: Any) -> None:
    response = client.post("/request-help/form", data=form_data("NOT A POSTCODE"))
    assert response.status_code == 400
    assert "Enter a" in response.get_data(as_text=True)
    assert db.session.scalar(select(HelpRequest)) is None


def test_api_accepts_it_and_says_the_location_is_unknown(
    client: Any, db: Any, make_user: Any, login: Any, resident_data: dict[str, Any]
) -> None:
    login(make_user("partner"))
    body = {"type": "shopping", "resident": {**resident_data, "postcode": NEW_BUILD, "consent_given": True}}
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.json
    assert response.json["resident"]["location_known"] is False


def test_api_partner_without_consent_is_refused_like_the_form(
    client: Any, db: Any, make_user: Any, login: Any, resident_data: dict[str, Any]
) -> None:
    login(make_user("partner"))
    body = {"type": "shopping", "resident": {**resident_data, "consent_given": False}}
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "resident.consent_given": "Confirm that the resident agreed we can use their details"
    }


def test_staff_intake_records_consent_under_the_lawful_basis_they_choose(
    client: Any, db: Any, make_user: Any, login: Any, resident_data: dict[str, Any]
) -> None:
    login(make_user("coordinator"))
    body = {
        "type": "shopping",
        "resident": {**resident_data, "consent_given": False, "lawful_basis": "vital_interests"},
    }
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.json
    assert (response.json["resident"]["consent_given"], response.json["resident"]["lawful_basis"]) == (
        False,
        "vital_interests",
    )


@pytest.fixture
def unplaced(make_request: Any) -> HelpRequest:
    return make_request(resident={"postcode": NEW_BUILD})


def test_queue_flags_it_and_filters_by_it(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, unplaced: HelpRequest
) -> None:
    placed = make_request()
    login(make_user("coordinator"))
    page = client.get("/coordinator/").get_data(as_text=True)
    assert page.count("Location unknown") >= 1
    only = client.get("/coordinator/?location_unknown=y").get_data(as_text=True)
    assert unplaced.reference in only and placed.reference not in only
    bad = client.get("/coordinator/?location_unknown=maybe")
    assert bad.status_code == 400 and "Location unknown must be true or false" in bad.get_data(as_text=True)


def test_coordinator_sets_the_location_from_a_nearby_postcode(
    client: Any, db: Any, make_user: Any, login: Any, unplaced: HelpRequest, hf_postcode: str
) -> None:
    login(make_user("coordinator"))
    page = client.get(f"/coordinator/requests/{unplaced.reference}").get_data(as_text=True)
    assert 'id="location-unknown"' in page and 'id="out-of-area"' not in page
    response = client.post(
        f"/coordinator/requests/{unplaced.reference}/location", data={"nearby_postcode": hf_postcode}
    )
    assert response.status_code == 302
    db.session.expire_all()
    resident = db.session.get(Resident, unplaced.resident_id)
    assert resident.location_known and resident.location_source == "nearby_postcode" and resident.h3_fine
    assert resident.postcode == NEW_BUILD  # the address is the resident's; only the location came from nearby
    kinds = db.session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == unplaced.id)).all()
    assert EventKind.LOCATION.value in kinds
    assert 'id="location-unknown"' not in client.get(f"/coordinator/requests/{unplaced.reference}").get_data(
        as_text=True
    )


def test_coordinator_sets_the_location_from_coordinates_through_the_api(
    client: Any, db: Any, make_user: Any, login: Any, unplaced: HelpRequest
) -> None:
    login(make_user("coordinator"))
    response = client.post(f"/api/v1/requests/{unplaced.reference}/location", json={"lat": 51.4927, "lon": -0.2240})
    assert response.status_code == 200, response.json
    assert response.json["resident"]["location_known"] is True
    assert response.json["resident"]["location_source"] == "coordinates"
    db.session.expire_all()
    assert db.session.get(Resident, unplaced.resident_id).authority_code == "E09000013"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "nearby_postcode", "Enter a nearby postcode, or the latitude and longitude"),
        ({"nearby_postcode": "W6 9AA", "lat": "51.5"}, "nearby_postcode", "not both"),
        (
            {"nearby_postcode": NEW_BUILD},
            "nearby_postcode",
            "Enter a nearby postcode that the postcode directory lists",
        ),
        ({"nearby_postcode": "nonsense"}, "nearby_postcode", "Enter a"),
        ({"lat": "51.5"}, "lon", "Enter the longitude"),
        ({"lat": "north", "lon": "-0.2"}, "lat", "The latitude must be a number"),
        ({"lat": "48.0", "lon": "-0.2"}, "lat", "The latitude must be between"),
        ({"lat": "51.5", "lon": "nan"}, "lon", "The longitude must be between"),
    ],
)
def test_bad_locations_are_explained_and_change_nothing(
    client: Any,
    db: Any,
    make_user: Any,
    login: Any,
    unplaced: HelpRequest,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(make_user("coordinator"))
    response = client.post(f"/coordinator/requests/{unplaced.reference}/location", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and "There is a problem" in page
    db.session.expire_all()
    assert db.session.get(Resident, unplaced.resident_id).location_known is False


def test_a_bad_location_posted_after_someone_placed_the_resident_shows_the_form_with_its_errors(
    client: Any, db: Any, make_user: Any, login: Any, unplaced: HelpRequest, hf_postcode: str
) -> None:
    """A second coordinator's page was loaded before the first set the location: their refused post must show
    the fields the error summary links to."""
    login(make_user("coordinator"))
    placed = client.post(f"/coordinator/requests/{unplaced.reference}/location", data={"nearby_postcode": hf_postcode})
    assert placed.status_code == 302
    response = client.post(f"/coordinator/requests/{unplaced.reference}/location", data={"lat": "north", "lon": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#lat"' in page and 'id="lat"' in page and 'value="north"' in page
    assert "Set the location" in page and "does not list" not in page


def test_matching_lists_it_as_location_unknown_until_placed(
    app: Any, db: Any, make_request: Any, make_volunteer: Any, unplaced: HelpRequest
) -> None:
    operations.triage(unplaced, {"urgency": "2"}, COORD)
    unit_of_work.commit()
    placed = triaged(make_request)
    volunteer(make_volunteer)
    run = run_matching(app, db)
    found = proposals(run)
    assert found[unplaced.id].unmatched_reason == "location_unknown"
    assert found[placed.id].volunteer_id is not None
