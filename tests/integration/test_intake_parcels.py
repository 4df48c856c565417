"""Every intake form (the resident's, phone intake, a partner's) asks a food parcel's questions: how many
parcels and when the resident can take a delivery. Read only for a food parcel; a bad answer is shown on its
field with everything kept; a blank one is 1 parcel at any time."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from can_crm.models.request import HelpRequest
from tests.integration.test_coordinator_pages import phone_form
from tests.integration.test_partner_pages import on_behalf
from tests.integration.test_resident_form import count, form_data


def _newest(db: Any) -> HelpRequest:
    db.session.expire_all()
    found = db.session.scalar(select(HelpRequest).order_by(HelpRequest.id.desc()).limit(1))
    assert found is not None
    return found


@pytest.fixture(params=["resident", "phone", "partner"])
def intake(request: Any, client: Any, make_user: Any, login: Any, resident_data: dict[str, Any]) -> tuple[str, Any]:
    """(the form's path, a function making its fields) for each intake form, signed in as whoever uses it."""
    if request.param == "resident":
        return "/request-help/form", lambda **o: form_data(resident_data["postcode"], **o)
    if request.param == "phone":
        login(make_user("coordinator"))
        return "/coordinator/requests/new", lambda **o: phone_form(resident_data, **o)
    login(make_user("partner"))
    return "/partner/requests/new", lambda **o: on_behalf(resident_data, **o)


def test_each_intake_form_asks_and_records_parcels_and_window(client: Any, db: Any, intake: Any) -> None:
    path, fields = intake
    page = client.get(path).get_data(as_text=True)
    assert "food parcel" in page and 'name="parcels"' in page
    assert "Morning, 09:00 to 12:00" in page and 'value="between"' not in page
    answer = client.post(path, data=fields(type="food_parcel", parcels="3", delivery_window="morning"))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    made = _newest(db)
    assert (made.type, made.parcels, made.delivery_window) == ("food_parcel", 3, "morning")


def test_a_blank_answer_is_one_parcel_at_any_time(client: Any, db: Any, intake: Any) -> None:
    path, fields = intake
    assert client.post(path, data=fields(type="food_parcel")).status_code == 302
    made = _newest(db)
    assert (made.parcels, made.delivery_window) == (1, "any")


def test_another_type_ignores_parcel_answers(client: Any, db: Any, intake: Any) -> None:
    path, fields = intake
    answer = client.post(path, data=fields(type="prescription", parcels="2", delivery_window="evening"))
    assert answer.status_code == 302
    made = _newest(db)
    assert (made.type, made.parcels, made.delivery_window) == ("prescription", None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("parcels", "lots", "How many parcels must be a whole number from 1 to 20"),
        ("parcels", "0", "How many parcels must be a whole number from 1 to 20"),
        ("parcels", "21", "How many parcels must be a whole number from 1 to 20"),
        ("delivery_window", "midnight", "when the resident can take a delivery"),
    ],
)
def test_a_bad_parcel_answer_is_shown_on_its_field_and_everything_is_kept(
    client: Any, db: Any, intake: Any, field: str, value: str, message: str
) -> None:
    path, fields = intake
    before = count(db)
    data = fields(type="food_parcel", details="Two parcels please, ring twice", **{field: value})
    answer = client.post(path, data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in page and f'href="#{field}' in page  # the error summary links to the field
    assert "Two parcels please, ring twice" in page
    if field == "parcels":
        assert f'value="{value}"' in page
    assert count(db) == before
