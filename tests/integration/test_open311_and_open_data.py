"""Open311 GeoReport v2 (the spec's names and error format; POST needs an admin-issued key; reading shows no personal
data) and the open-data export (by week, type and area, small numbers suppressed with the maps' k)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.request import HelpRequest
from can_crm.services.federation import open311_keys
from can_crm.services.requests import lifecycle

PERSONAL = ("Margaret", "Okafor", "Fulham Palace", "07911", "Weekly shop")


@pytest.fixture
def api_key(db: Any) -> str:
    _key, plain = open311_keys.issue("FixMyStreet", None)
    unit_of_work.commit()
    return plain


def test_services_use_the_spec_field_names(client: Any, db: Any) -> None:
    services = client.get("/open311/v2/services.json").get_json()
    assert {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} <= set(services[0])
    assert {s["service_code"] for s in services} >= {"shopping", "prescription"}
    definition = client.get("/open311/v2/services/shopping.json").get_json()
    assert definition == {"service_code": "shopping", "attributes": []}
    missing = client.get("/open311/v2/services/potholes.json")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404
    xml = client.get("/open311/v2/services.xml")
    assert xml.status_code == 400 and "json" in xml.get_json()[0]["description"]


def test_public_reads_show_status_type_dates_and_area_never_personal_data(
    client: Any, db: Any, make_request: Any
) -> None:
    req = make_request()
    listing = client.get("/open311/v2/requests.json")
    assert listing.status_code == 200
    (item,) = listing.get_json()
    assert item["service_request_id"] == req.reference and item["status"] == "open"
    assert item["service_code"] == "shopping" and item["requested_datetime"]
    assert "description" not in item and "lat" not in item and "zipcode" not in item
    one = client.get(f"/open311/v2/requests/{req.reference}.json")
    assert one.status_code == 200 and one.get_json() == [item]
    body = listing.get_data(as_text=True) + one.get_data(as_text=True)
    assert not [p for p in PERSONAL if p in body]
    assert client.get("/open311/v2/requests/CAN-2222-2222.json").status_code == 404
    assert client.get("/open311/v2/requests.json?status=open").get_json() == [item]
    assert client.get("/open311/v2/requests.json?status=closed").get_json() == []


@pytest.mark.parametrize(
    "query",
    [
        "status=pending",
        "start_date=yesterday",
        "service_code=potholes",
        "start_date=2026-12-01&end_date=2026-01-01",
        "end_date=0001-01-01T00:00:00",
        "start_date=0001-01-01T00:00:00Z",
        "end_date=9999-12-31T23:59:59",
        "start_date=2026-07-02T25:00:00",
        "start_date=" + "9" * 5000,
    ],
)
def test_bad_read_filters_are_400_in_the_spec_format(client: Any, db: Any, query: str) -> None:
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    (error,) = response.get_json()
    assert error["code"] == 400 and error["description"]


def test_a_date_without_a_zone_is_the_councils(client: Any, db: Any, make_request: Any) -> None:
    """00:30 on 2 July in London is 23:30 UTC on 1 July: a civic app asking from "2026-07-02T00:00:00" (a date-time
    with no zone, as people write it) means London's midnight, so that request is in; from the same moment in UTC
    it is not."""
    from datetime import UTC, datetime

    req = make_request()
    req.created_at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    unit_of_work.commit()
    window = "end_date=2026-07-03T00:00:00"
    found = client.get(f"/open311/v2/requests.json?start_date=2026-07-02T00:00:00&{window}").get_json()
    assert [item["service_request_id"] for item in found] == [req.reference]
    assert found[0]["requested_datetime"] == "2026-07-01T23:30:00+00:00"
    assert client.get(f"/open311/v2/requests.json?start_date=2026-07-02T00:00:00Z&{window}").get_json() == []


def test_civic_app_submits_a_request_with_its_key(client: Any, db: Any, api_key: str, hf_postcode: str) -> None:
    form = {
        "api_key": api_key,
        "service_code": "shopping",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address_string": f"12 Fulham Palace Road, {hf_postcode}",
        "phone": "07911 123456",
        "description": "Needs a weekly shop",
    }
    response = client.post("/open311/v2/requests.json", data=form)
    assert response.status_code == 201, response.get_json()
    (answer,) = response.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    created = db.session.scalars(select(HelpRequest)).one()
    assert created.reference == answer["service_request_id"]
    assert (created.channel, created.status, created.type) == ("open311", "new", "shopping")


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "o311_wrong"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "potholes"}, 400, "service_code"),
        ({"first_name": "", "last_name": ""}, 400, "first_name"),
        ({"address_string": "somewhere"}, 400, "address_string"),
        ({"phone": "not a phone"}, 400, "phone"),
    ],
)
def test_bad_submissions_are_refused_in_the_spec_format(
    client: Any, db: Any, api_key: str, hf_postcode: str, change: dict[str, str], status: int, words: str
) -> None:
    form = {
        "api_key": api_key,
        "service_code": "shopping",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address_string": f"12 Fulham Palace Road, {hf_postcode}",
        "phone": "07911 123456",
        **change,
    }
    response = client.post("/open311/v2/requests.json", data=form)
    assert response.status_code == status, response.get_json()
    assert all(e["code"] == status for e in response.get_json())
    assert words in json.dumps(response.get_json())
    assert db.session.scalars(select(HelpRequest)).all() == []


def test_revoked_key_cannot_submit(client: Any, db: Any, api_key: str) -> None:
    open311_keys.revoke(1)
    unit_of_work.commit()
    assert client.post("/open311/v2/requests.json", data={"api_key": api_key}).status_code == 403


def test_open_data_suppresses_small_numbers_and_shows_no_personal_data(
    app: Any, client: Any, db: Any, make_request: Any
) -> None:
    k = app.config["HEATMAP_K"]
    for n in range(k):
        made = make_request(resident={"name": f"Person {'abcdefghij'[n]}", "phone": f"07911 12345{n}"})
        if n == 0:
            lifecycle.transition(made, "cancelled", lifecycle.Actor(role="coordinator"), "No longer needed")
            unit_of_work.commit()
    make_request(request={"type": "befriending"})  # one person: below k, left out

    data = client.get("/open-data/requests.json").get_json()
    assert data["k"] == k
    (row,) = data["rows"]
    assert (row["request_type"], row["requests"], row["people"]) == ("shopping", k, k)
    # Outcome counts below k (one cancelled, k-1 open) would single people out: both hidden.
    assert row["not_helped"] is None and row["open"] is None
    exported = client.get("/open-data/requests.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    (csv_row,) = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert csv_row["requests"] == str(k) and csv_row["not_helped"] == ""
    body = json.dumps(data) + exported.get_data(as_text=True)
    assert not [p for p in PERSONAL if p in body]


@pytest.mark.parametrize(
    "query", ["from=yesterday", "to=2026-13-01", "from=2026-05-01&to=2026-01-01", "from=2019-01-01"]
)
def test_open_data_bad_dates_get_the_error_envelope(client: Any, db: Any, query: str) -> None:
    for fmt in ("json", "csv"):
        response = client.get(f"/open-data/requests.{fmt}?{query}")
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "validation_failed"
