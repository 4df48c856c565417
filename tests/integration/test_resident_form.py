"""The public resident pages: ask for help and check progress, with every bad input answered."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from can_crm.models.request import HelpRequest


def form_data(hf: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "type": "prescription",
        "details": "Collect my repeat prescription",
        "name": "Joan O'Brien",
        "address_line1": "3 Lillie Road",
        "postcode": hf,
        "phone": "020 7946 0000",
        "preferred_channel": "phone",
        "shielding": "yes",
        "consent_given": "y",
        "due_by": ["", "", ""],
    }
    data.update(overrides)
    return data


def count(db: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(HelpRequest))


def test_resident_asks_for_help_and_tracks_it(client: Any, db: Any, hf_postcode: str) -> None:
    response = client.post("/request-help/form", data=form_data(hf_postcode.lower().replace(" ", "")))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r"CAN-[A-Z0-9]{4}-[A-Z0-9]{4}", page).group(0)
    request = db.session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    assert request.status == "new" and request.channel == "web" and request.due_by is None
    tracked = client.post("/track", data={"reference": reference.lower().replace("-", " "), "postcode": hf_postcode})
    assert tracked.status_code == 200
    assert "We have received your request" in tracked.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter full name"),
        ("name", "Robert'); DROP TABLE residents;--", "Full name must only include letters a to z"),
        ("name", "x" * 121, "Full name must be 120 characters or fewer"),
        ("address_line1", "<script>alert(1)</script>", "Address line 1 must not contain HTML or code"),
        ("postcode", "", "Enter a postcode"),
        ("postcode", "NOT A POSTCODE", "Enter a"),
        ("phone", "12345", "Enter a real phone number"),
        ("phone", "call me maybe", "Enter a phone number, like"),
        ("email", "not-an-email", "Enter an email address in the correct format"),
        ("type", "", "Select what help is needed"),
        ("type", "helicopter", "Select what help is needed from the list"),
        ("details", "y" * 2001, "must be 2000 characters or fewer"),
        ("due_by", ["31", "2", "2030"], "Date help is needed by must be a real date"),
        ("due_by", ["1", "1", "2001"], "Date help is needed by must be today or in the future"),
        ("consent_given", "", "Confirm that we can use your details"),
    ],
)
def test_bad_input_is_explained_and_nothing_typed_is_lost(
    client: Any, db: Any, hf_postcode: str, field: str, value: Any, message: str
) -> None:
    data = form_data(hf_postcode, **{field: value})
    if field == "consent_given":
        del data["consent_given"]
    response = client.post("/request-help/form", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and message in page.replace("&#39;", "'")
    assert "<title>Error:" in page
    kept = data["details"] if field != "details" else value
    assert str(escape(kept)) in page
    if field not in ("type", "consent_given") and isinstance(value, str):
        assert str(escape(value)) in page
    assert "<script>alert(1)</script>" not in page
    assert count(db) == 0


def test_email_channel_needs_an_email(client: Any, db: Any, hf_postcode: str) -> None:
    response = client.post("/request-help/form", data=form_data(hf_postcode, preferred_channel="email"))
    assert response.status_code == 400
    assert "Enter an email address, or choose another way" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("reference", "postcode", "message"),
    [
        ("", "W6 9JU", "Enter your request reference"),
        ("CAN-0000-OOOO", "W6 9JU", "Enter a request reference in the correct format"),
        ("CAN-2345-6789", "", "Enter a postcode"),
        ("CAN-2345-6789", "W6 9JU", "We could not find a request with that reference and postcode"),
    ],
)
def test_track_explains_every_mistake(client: Any, db: Any, reference: str, postcode: str, message: str) -> None:
    response = client.post("/track", data={"reference": reference, "postcode": postcode})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_track_needs_the_matching_postcode(client: Any, db: Any, make_request: Any, postcode_index: Any) -> None:
    from tests.conftest import postcode_in

    request = make_request()
    other = postcode_in(postcode_index, "E09000020")
    response = client.post("/track", data={"reference": request.reference, "postcode": other})
    assert response.status_code == 400
