"""A refused post on a coordinator's request page: the form again with the message by its field and what was
entered, or, when the request moved on since the page was loaded (so the form is no longer on it), a 409 whose
error summary says so and links only to what the page shows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from tests.integration.error_page_helpers import assert_message_by_field, assert_plain_refusal


@pytest.fixture
def coordinator(make_user: Any, login: Any) -> Any:
    user = make_user("coordinator", name="Cara Coordinator")
    login(user)
    return user


def _near(db: Any, req: HelpRequest, volunteer: Any) -> None:
    """Put the volunteer at the resident's door, so they are a candidate for the request."""
    resident = db.session.get(Resident, req.resident_id)
    row = db.session.get(Volunteer, volunteer.id)
    resident.lat, resident.lon = resident.lat or 51.48, resident.lon or -0.2
    row.lat, row.lon = resident.lat, resident.lon
    unit_of_work.commit()


def _status(db: Any, req: HelpRequest) -> str:
    db.session.expire_all()
    return str(db.session.scalar(select(HelpRequest.status).where(HelpRequest.id == req.id)))


def test_bad_triage_keeps_what_was_typed_by_its_field(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    response = client.post(
        f"/coordinator/requests/{req.reference}/triage",
        data={"urgency": "3", "min_dbs": "basic", "due_by": ["", "", ""], "coordinator_notes": "<b>Call first</b>"},
    )
    page = assert_message_by_field(response, 400, "coordinator_notes", "must not contain HTML")
    assert "&lt;b&gt;Call first&lt;/b&gt;</textarea>" in page  # what was typed is shown again
    assert 'value="3" checked' in page and 'value="basic" checked' in page
    assert _status(db, req) == "new"


def test_triage_after_the_request_was_matched_says_it_moved_on(
    client: Any, coordinator: Any, make_request: Any, make_volunteer: Any, db: Any
) -> None:
    req = make_request()
    vol = make_volunteer()
    _near(db, req, vol)
    client.post(f"/coordinator/requests/{req.reference}/triage", data={"urgency": "1", "min_dbs": "none"})
    assert (
        client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": str(vol.id)}).status_code
        == 302
    )
    # A second tab, loaded before the match, posts triage with a mistake in it.
    response = client.post(f"/coordinator/requests/{req.reference}/triage", data={"urgency": "7"})
    page = assert_plain_refusal(response, "This request is now matched, so it cannot be triaged: nothing was saved")
    assert f"/coordinator/requests/{req.reference}/triage" not in page
    assert _status(db, req) == "matched"


def test_bad_volunteer_is_shown_by_the_choice(
    client: Any, coordinator: Any, make_request: Any, make_volunteer: Any, db: Any
) -> None:
    req = make_request()
    _near(db, req, make_volunteer())
    client.post(f"/coordinator/requests/{req.reference}/triage", data={"urgency": "1", "min_dbs": "none"})
    for value, message in (("", "Choose a volunteer"), ("2147483647", "No volunteer with that id")):
        response = client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": value})
        assert_message_by_field(response, 400, "volunteer_id", message)
    assert _status(db, req) == "triaged"


def test_assign_when_nobody_is_available_or_after_a_match_says_why(
    client: Any, coordinator: Any, make_request: Any, make_volunteer: Any, db: Any
) -> None:
    req = make_request()
    client.post(f"/coordinator/requests/{req.reference}/triage", data={"urgency": "1", "min_dbs": "none"})
    response = client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": "x"})
    assert_plain_refusal(response, "No volunteer is available to assign today, so nothing was saved")

    vol = make_volunteer()
    _near(db, req, vol)
    assert (
        client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": str(vol.id)}).status_code
        == 302
    )
    response = client.post(f"/coordinator/requests/{req.reference}/assign", data={"volunteer_id": ""})
    page = assert_plain_refusal(
        response, "This request is now matched, so it cannot be assigned a volunteer: nothing was saved"
    )
    assert f"/coordinator/requests/{req.reference}/assign" not in page


def test_bad_reason_keeps_the_chosen_status_and_the_text(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    response = client.post(
        f"/coordinator/requests/{req.reference}/transition", data={"to": "cancelled", "reason": "<i>gone</i>"}
    )
    page = assert_message_by_field(response, 400, "reason", "must not contain HTML")
    assert 'value="cancelled" checked' in page and "&lt;i&gt;gone&lt;/i&gt;</textarea>" in page
    response = client.post(f"/coordinator/requests/{req.reference}/transition", data={"reason": "Not sure"})
    page = assert_message_by_field(response, 400, "to", "Select the new status")
    assert "Not sure</textarea>" in page
    assert _status(db, req) == "new"


def test_status_change_on_a_finished_request_says_it_cannot_change(
    client: Any, coordinator: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    done = client.post(f"/coordinator/requests/{req.reference}/transition", data={"to": "cancelled", "reason": "Dup"})
    assert done.status_code == 302
    response = client.post(f"/coordinator/requests/{req.reference}/transition", data={"to": ""})
    page = assert_plain_refusal(response, "This request is now cancelled, so it cannot be moved to another status")
    assert f"/coordinator/requests/{req.reference}/transition" not in page
    assert _status(db, req) == "cancelled"
