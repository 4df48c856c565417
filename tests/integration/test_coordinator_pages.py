"""Coordinator pages through the browser-facing routes, on the real PostgreSQL database."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.audit import AuditEntry
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.events import Actor


def text(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def coordinator(make_user: Any, login: Any) -> Any:
    user = make_user("coordinator", name="Cara Coordinator")
    login(user)
    return user


def phone_form(resident: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data = {
        "type": "shopping",
        "urgency": "2",
        "details": "Weekly shop for two",
        "recurrence": "none",
        "name": resident["name"],
        "address_line1": resident["address_line1"],
        "postcode": resident["postcode"],
        "phone": "07911 123456",
        "preferred_channel": "phone",
        "shielding": "yes",
        "lawful_basis": "public_task",
        "due_by": ["", "", ""],
    }
    data.update(overrides)
    return data


# --- access -------------------------------------------------------------------------------------

COORDINATOR_PAGES = [
    "/coordinator/",
    "/coordinator/requests/new",
    "/coordinator/safeguarding",
    "/coordinator/volunteers",
    "/coordinator/volunteers/new",
]


@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_coordinator_pages_render_for_coordinators(client: Any, coordinator: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "<title>" in text(response)


@pytest.mark.parametrize("role", ["partner", "councillor", "volunteer", "admin"])
@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_coordinator_pages_refuse_other_roles(client: Any, make_user: Any, login: Any, role: str, path: str) -> None:
    login(make_user(role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_coordinator_pages_send_anonymous_users_to_sign_in(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


def test_request_page_refuses_other_roles(client: Any, make_user: Any, login: Any, make_request: Any) -> None:
    req = make_request()
    login(make_user("partner"))
    assert client.get(f"/coordinator/requests/{req.reference}").status_code == 403


# --- queue --------------------------------------------------------------------------------------


def test_queue_lists_open_requests_with_postcode_district_only(
    client: Any, coordinator: Any, make_request: Any, resident_data: dict[str, Any]
) -> None:
    req = make_request()
    page = text(client.get("/coordinator/"))
    assert req.reference in page
    district = resident_data["postcode"].split(" ")[0]
    assert f">{district}<" in page
    assert resident_data["postcode"] not in page
    assert resident_data["name"] not in page


def test_queue_filters_by_type_and_urgency(client: Any, coordinator: Any, make_request: Any) -> None:
    shop = make_request(request={"type": "shopping", "urgency": 1})
    food = make_request(request={"type": "food_parcel", "urgency": 3}, resident={"name": "Other Person"})
    page = text(client.get("/coordinator/?type=food_parcel"))
    assert food.reference in page and shop.reference not in page
    page = text(client.get("/coordinator/?urgency=1"))
    assert shop.reference in page and food.reference not in page


def test_queue_open_by_default_and_any_status_on_request(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    from can_crm.services.requests import lifecycle
    from can_crm.services.requests.events import Actor

    done = make_request()
    lifecycle.transition(done, "cancelled", Actor(role="coordinator"), "Duplicate")
    unit_of_work.commit()
    assert done.reference not in text(client.get("/coordinator/"))
    assert done.reference in text(client.get("/coordinator/?status=all"))
    assert done.reference in text(client.get("/coordinator/?status=cancelled"))


def test_queue_search_finds_by_name_and_reference(client: Any, coordinator: Any, make_request: Any) -> None:
    one = make_request(resident={"name": "Ada Lovelace"})
    two = make_request(resident={"name": "Grace Hopper"})
    found = client.post("/coordinator/", data={"q": "lovelace", "status": "open"})
    assert found.status_code == 302 and "lovelace" not in found.headers["Location"].lower()
    page = text(client.get(found.headers["Location"]))
    assert one.reference in page and two.reference not in page
    page = text(client.get(client.post("/coordinator/", data={"q": two.reference}).headers["Location"]))
    assert two.reference in page and one.reference not in page
    assert client.get("/coordinator/?q=lovelace").status_code == 400


def test_overdue_requests_are_marked_in_words_and_filterable(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    late = make_request(resident={"name": "Late Person"})
    fresh = make_request()
    late.sla_due_at = late.sla_due_at - timedelta(days=10)
    unit_of_work.commit()
    page = text(client.get("/coordinator/"))
    assert page.count(">Overdue<") == 1
    page = text(client.get("/coordinator/?overdue=true"))
    assert late.reference in page and fresh.reference not in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("status=nonsense", "Unknown status"),
        ("type=spaceship", "Unknown request type"),
        ("urgency=9", "Urgency must be"),
        ("overdue=maybe", "Overdue must be true or false"),
    ],
)
def test_bad_queue_filters_show_an_error_summary(client: Any, coordinator: Any, query: str, message: str) -> None:
    response = client.get(f"/coordinator/?{query}")
    assert response.status_code == 400
    page = text(response)
    assert "govuk-error-summary" in page and message in page
    assert "<title>Error:" in page


def test_queue_pagination_keeps_filters(client: Any, coordinator: Any, make_request: Any) -> None:
    refs = {make_request(request={"type": "shopping"}).reference for _ in range(3)}
    make_request(request={"type": "food_parcel"})
    first = text(client.get("/coordinator/?type=shopping&per_page=2"))
    assert "page 1 of 2" in first
    assert "type=shopping" in first and "page=2" in first
    second = text(client.get("/coordinator/?type=shopping&per_page=2&page=2"))
    assert "page 2 of 2" in second and "page=1" in second
    shown = {r for r in refs if r in first} | {r for r in refs if r in second}
    assert shown == refs


def test_queue_per_page_is_capped_and_bad_numbers_ignored(client: Any, coordinator: Any) -> None:
    assert client.get("/coordinator/?per_page=100000&page=abc").status_code == 200


# --- the request page ---------------------------------------------------------------------------


def test_request_page_shows_resident_timeline_and_audits_the_view(
    client: Any, coordinator: Any, make_request: Any, resident_data: dict[str, Any], db: Any
) -> None:
    req = make_request()
    response = client.get(f"/coordinator/requests/{req.reference}")
    assert response.status_code == 200
    page = text(response)
    assert resident_data["name"] in page and "Request received" in page
    # What and how urgent, each on its row ("Shopping, soon urgency" read badly).
    assert re.search(r"Help with\s*</dt>\s*<dd[^>]*>\s*Shopping\s*</dd>", page)
    assert re.search(r"Urgency\s*</dt>\s*<dd[^>]*>\s*Soon\s*</dd>", page) and "soon urgency" not in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view_resident"))
    assert entry is not None and entry.actor_id == coordinator.id
    assert entry.object_type == "resident" and entry.object_id == req.resident_id


def test_unknown_request_is_404(client: Any, coordinator: Any) -> None:
    assert client.get("/coordinator/requests/CAN-0000-0000").status_code == 404


def test_triage_through_the_page(client: Any, coordinator: Any, make_request: Any, db: Any) -> None:
    req = make_request()
    response = client.post(
        f"/coordinator/requests/{req.reference}/triage",
        data={
            "urgency": "3",
            "required_skills": ["driving", "shopping"],
            "min_dbs": "basic",
            "due_by": ["", "", ""],
            "coordinator_notes": "Call before visiting",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    req = db.session.get(HelpRequest, req.id)
    assert req.status == "triaged" and req.urgency == 3
    assert req.required_skills == ["driving", "shopping"] and req.min_dbs == "basic"
    assert req.coordinator_notes == "Call before visiting"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"urgency": "7"}, "Urgency must be"),
        ({"coordinator_notes": "<script>alert(1)</script>"}, "must not contain HTML"),
        ({"coordinator_notes": "x" * 2001}, "2000 characters or fewer"),
        ({"due_by": ["31", "2", "2030"]}, "must be a real date"),
        ({"required_skills": ["flying"]}, "Unknown skill"),
    ],
)
def test_bad_triage_is_shown_next_to_the_field_and_changes_nothing(
    client: Any, coordinator: Any, make_request: Any, db: Any, data: dict[str, Any], message: str
) -> None:
    req = make_request()
    form = {"urgency": "2", "min_dbs": "none", "due_by": ["", "", ""], **data}
    response = client.post(f"/coordinator/requests/{req.reference}/triage", data=form)
    assert response.status_code == 400
    page = text(response)
    assert message in page and "govuk-error-summary" in page
    if "coordinator_notes" in data and len(data["coordinator_notes"]) < 100:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "new"


def test_transition_through_the_page_records_the_reason(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    response = client.post(
        f"/coordinator/requests/{req.reference}/transition",
        data={"to": "cancelled", "reason": "Resident no longer needs help"},
    )
    assert response.status_code == 302
    event = db.session.scalar(select(RequestEvent).where(RequestEvent.to_status == "cancelled"))
    assert event.reason == "Resident no longer needs help" and event.actor_id == coordinator.id


def test_refused_transition_is_409_with_the_message_and_changes_nothing(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    before = db.session.scalar(select(func.count()).select_from(RequestEvent))
    response = client.post(f"/coordinator/requests/{req.reference}/transition", data={"to": "delivered"})
    assert response.status_code == 409
    page = text(response)
    assert "cannot move from new to delivered" in page and "govuk-error-summary" in page
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "new"
    assert db.session.scalar(select(func.count()).select_from(RequestEvent)) == before


def test_missing_reason_is_refused_and_typed_text_kept(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    response = client.post(
        f"/coordinator/requests/{req.reference}/transition", data={"to": "cancelled", "reason": "   "}
    )
    assert response.status_code == 409
    assert "Give a reason" in text(response)
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "new"


def test_assign_a_volunteer_by_hand_nearest_first(
    client: Any, coordinator: Any, make_request: Any, make_volunteer: Any, db: Any
) -> None:
    req = make_request()
    near = make_volunteer(name="Near Volunteer")
    far = make_volunteer(name="Far Volunteer")
    resident = db.session.get(Resident, req.resident_id)
    far_row = db.session.get(Volunteer, far.id)
    far_row.lat, far_row.lon = (resident.lat or 51.48) + 0.05, resident.lon or -0.2
    near_row = db.session.get(Volunteer, near.id)
    near_row.lat, near_row.lon = resident.lat or 51.48, resident.lon or -0.2
    resident.lat, resident.lon = near_row.lat, near_row.lon
    unit_of_work.commit()
    client.post(f"/coordinator/requests/{req.reference}/triage", data={"urgency": "1", "min_dbs": "none"})
    page = text(client.get(f"/coordinator/requests/{req.reference}"))
    assert page.index("Near Volunteer") < page.index("Far Volunteer")
    response = client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": str(near.id)})
    assert response.status_code == 302
    db.session.expire_all()
    req = db.session.get(HelpRequest, req.id)
    assert req.status == "matched" and req.volunteer_id == near.id


def test_assign_without_choosing_shows_an_error(
    client: Any, coordinator: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = make_request()
    make_volunteer()
    client.post(f"/coordinator/requests/{req.reference}/triage", data={"urgency": "1", "min_dbs": "none"})
    response = client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": ""})
    assert response.status_code == 400
    assert "Choose a volunteer" in text(response)


# --- assisted digital ---------------------------------------------------------------------------


def test_phone_request_is_created_with_phone_channel(
    client: Any, coordinator: Any, resident_data: dict[str, Any], db: Any
) -> None:
    response = client.post(
        "/coordinator/requests/new", data=phone_form(resident_data, nhs_number="943 476 5919", recurrence="weekly")
    )
    assert response.status_code == 302, text(response)[:2000]
    req = db.session.scalar(select(HelpRequest))
    assert req.channel == "phone" and req.raised_by_id == coordinator.id and req.recurrence == "weekly"
    assert db.session.get(Resident, req.resident_id).nhs_number == "9434765919"


def test_likely_duplicate_needs_confirmation_and_keeps_the_typed_values(
    client: Any, coordinator: Any, make_request: Any, resident_data: dict[str, Any], db: Any
) -> None:
    existing = make_request()
    form = phone_form(resident_data, details="Another shop please")
    response = client.post("/coordinator/requests/new", data=form)
    assert response.status_code == 200
    page = text(response)
    assert existing.reference in page and "This is not a duplicate" in page
    assert "Another shop please" in page and 'name="duplicate_checked"' in page
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == 1
    # Sent again without the tick: an error, still nothing created.
    response = client.post("/coordinator/requests/new", data={**form, "duplicate_checked": "1"})
    assert response.status_code == 400
    assert "This is not a duplicate" in text(response)
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == 1
    response = client.post("/coordinator/requests/new", data={**form, "duplicate_checked": "1", "not_duplicate": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == 2


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Enter full name"),
        ("name", "x" * 121, "120 characters or fewer"),
        ("postcode", "NOT A POSTCODE", "postcode"),
        ("phone", "12345", "phone number"),
        ("nhs_number", "1234567890", "Enter a real NHS number"),
        ("details", "<b>bold</b>", "must not contain HTML"),
        ("type", "spaceship", "Select what help is needed"),
        ("urgency", "5", "Urgency must be"),
    ],
)
def test_bad_phone_request_input_is_shown_and_typed_values_kept(
    client: Any, coordinator: Any, resident_data: dict[str, Any], db: Any, field: str, value: str, message: str
) -> None:
    form = phone_form(resident_data, **{field: value})
    response = client.post("/coordinator/requests/new", data=form)
    assert response.status_code == 400
    page = text(response)
    assert message in page and "govuk-error-summary" in page
    assert "Weekly shop for two" in page or field == "details"
    assert "12 Fulham Palace Road" in page
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == 0


# --- volunteers ---------------------------------------------------------------------------------


def volunteer_form(postcode: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Val Helper",
        "phone": "07911 123458",
        "email": "",
        "home_postcode": postcode,
        "max_km": "4",
        "capacity": "2",
        "skills": ["shopping", "driving"],
        "dbs_level": "basic",
        "dbs_certificate_date": ["1", "3", "2024"],
        "avail_mon": ["morning", "evening"],
        "avail_sat": ["afternoon"],
        "active": "yes",
        "paused_until": ["", "", ""],
        "organisation": "Fulham Mutual Aid",
    }
    data.update(overrides)
    return data


def test_create_and_edit_a_volunteer(client: Any, coordinator: Any, hf_postcode: str, db: Any) -> None:
    response = client.post("/coordinator/volunteers/new", data=volunteer_form(hf_postcode))
    assert response.status_code == 302, text(response)[:3000]
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.availability == {"mon": ["morning", "evening"], "sat": ["afternoon"]}
    assert volunteer.skills == ["driving", "shopping"] and volunteer.max_km == 4
    page = text(client.get("/coordinator/volunteers"))
    # Added by a coordinator, a volunteer still waits for vetting before anything is offered.
    assert "Val Helper" in page and "Waiting for vetting" in page
    edit = text(client.get(f"/coordinator/volunteers/{volunteer.id}"))
    assert 'value="Val Helper"' in edit
    response = client.post(
        f"/coordinator/volunteers/{volunteer.id}",
        data=volunteer_form(hf_postcode, paused_until=["1", "1", "2099"], capacity="3"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    volunteer = db.session.get(Volunteer, volunteer.id)
    assert volunteer.capacity == 3 and str(volunteer.paused_until) == "2099-01-01"
    volunteer.status = "active"  # vetted
    db.session.commit()
    assert "Paused" in text(client.get("/coordinator/volunteers"))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Enter full name"),
        ("home_postcode", "ZZ", "postcode"),
        ("max_km", "500", "between"),
        ("capacity", "lots", "whole number"),
        ("phone", "999", "phone number"),
        ("organisation", "<i>x</i>", "must not contain HTML"),
        ("dbs_certificate_date", ["1", "1", "2999"], "past"),
    ],
)
def test_bad_volunteer_input_is_shown_next_to_the_field(
    client: Any, coordinator: Any, hf_postcode: str, db: Any, field: str, value: Any, message: str
) -> None:
    response = client.post("/coordinator/volunteers/new", data=volunteer_form(hf_postcode, **{field: value}))
    assert response.status_code == 400
    page = text(response)
    assert message in page and "govuk-error-summary" in page
    assert ("Fulham Mutual Aid" if field != "organisation" else "Val Helper") in page
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_unknown_volunteer_is_404(client: Any, coordinator: Any) -> None:
    assert client.get("/coordinator/volunteers/999").status_code == 404


def test_request_page_flags_a_resident_out_of_area(
    client: Any, make_user: Any, login: Any, make_request: Any, postcode_index: Any
) -> None:
    from tests.conftest import postcode_in

    login(make_user("coordinator"))
    inside = make_request()
    outside = make_request(resident={"postcode": postcode_in(postcode_index, "E09000020"), "name": "Kim Lee"})
    assert "Out of area" not in client.get(f"/coordinator/requests/{inside.reference}").get_data(as_text=True)
    page = client.get(f"/coordinator/requests/{outside.reference}").get_data(as_text=True)
    assert "Out of area" in page and "Kensington and Chelsea" in page and "E09000020" in page


def test_the_assign_list_says_who_speaks_the_residents_language(
    client: Any, db: Any, coordinator: Any, make_volunteer: Any, make_request: Any
) -> None:
    speaker = make_volunteer(name="Ola Speaker", skills=["shopping", "language_polish"])
    make_volunteer(name="Sam Other")
    polish = make_request(resident={"language": "Polish"})
    english = make_request()
    for req in (polish, english):
        request_service.triage(req, {}, Actor(role="coordinator"))
    unit_of_work.commit()
    page = client.get(f"/coordinator/requests/{polish.reference}").get_data(as_text=True)
    assert page.count("speaks Polish") == 1
    assert re.search(rf'value="{speaker.id}"[^>]*>Ola Speaker[^<]*speaks Polish', page)
    assert "speaks" not in client.get(f"/coordinator/requests/{english.reference}").get_data(as_text=True)


def test_volunteers_list_comes_a_page_at_a_time_and_filters_by_status(
    client: Any, coordinator: Any, make_volunteer: Any, db: Any
) -> None:
    """A council has thousands of volunteers: the list shows 50 by name at a time, of one status if asked."""
    for n in range(53):
        make_volunteer(name=f"Helper {chr(65 + n // 26)}{chr(65 + n % 26)}", status="active" if n % 4 else "pending")

    def names(page: str) -> list[str]:
        return re.findall(r'/coordinator/volunteers/\d+">([^<]+)</a>', page)

    first = text(client.get("/coordinator/volunteers"))
    assert "53 volunteers, page 1 of 2" in first and len(names(first)) == 50
    assert names(first) == sorted(names(first)) and names(first)[0] == "Helper AA"
    assert 'href="/coordinator/volunteers?page=2"' in first and "govuk-pagination" in first
    second = text(client.get("/coordinator/volunteers?page=2"))
    assert names(second) == ["Helper BY", "Helper BZ", "Helper CA"]
    waiting = text(client.get("/coordinator/volunteers?status=pending"))
    assert "14 volunteers" in waiting and len(names(waiting)) == 14 and "govuk-pagination" not in waiting
    assert '<option value="pending" selected>' in waiting
    # A page past the end shows the last; one that is not a number, the first. Neither is an error.
    assert names(text(client.get("/coordinator/volunteers?page=9"))) == names(second)
    assert names(text(client.get("/coordinator/volunteers?page=two"))) == names(first)
    none_left = text(client.get("/coordinator/volunteers?status=left"))
    assert "0 volunteers" in none_left and "No volunteers with this status." in none_left


def test_volunteers_list_refuses_an_unknown_status_with_a_gov_uk_error(client: Any, coordinator: Any) -> None:
    response = client.get("/coordinator/volunteers?status=%3Cscript%3E")
    page = text(response)
    assert response.status_code == 400
    assert page.count("Choose a status from the list") == 2  # the summary and the field
    assert "<title>Error: " in page and 'href="#status"' in page and "<script>" not in page


@pytest.mark.parametrize("raw", ["99999999999999999999", "%C2%B2", "-3", "", "two", "1e9", "%00"])
def test_a_page_number_that_is_not_one_shows_a_page_never_an_error(
    client: Any, coordinator: Any, make_user: Any, login: Any, make_volunteer: Any, raw: str
) -> None:
    """Huge (past the database's OFFSET), "²" (a digit to str.isdigit, not to int), negative, empty, words."""
    make_volunteer()
    for url in (f"/coordinator/?page={raw}", f"/coordinator/?per_page={raw}", f"/coordinator/volunteers?page={raw}"):
        assert client.get(url).status_code == 200, url
    login(make_user("partner", organisation="Age UK"))
    assert client.get(f"/partner/?page={raw}").status_code == 200
