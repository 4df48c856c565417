"""Track and Trace pages pass axe-core at 360 px and 1280 px, and a tracer with JavaScript off records a case
and sets a contact isolating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_helpers import assert_accessible, no_horizontal_scroll, screenshot, sign_in_page

from can_crm.services.common import times

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PASSWORD = "correct horse battery staple"
PAGES = [
    "coordinator.tracing_home",
    "coordinator.tracing_new_interaction",
    "coordinator.tracing_calls",
    "coordinator.tracing_clusters",
    "coordinator.tracing_map",
]


def _setup(make_user: Any, make_volunteer: Any) -> tuple[Any, int]:
    """A tracer, and a case (a resident) whose volunteer met them and then a second resident."""
    from can_crm import unit_of_work
    from can_crm.extensions import db
    from can_crm.models.resident import Resident
    from can_crm.models.tracing import Interaction
    from can_crm.services.accounts import users
    from can_crm.services.tracing import cases

    tracer = make_user("coordinator")
    users.set_tracing(tracer, True, tracer.id)
    helper = make_volunteer()
    people = [
        Resident(name=name, address_line1="1 High Street", postcode="W6 9JT", lat=51.49, lon=-0.22)
        for name in ("Index Person", "Neighbour Person")
    ]
    db.session.add_all(people)
    db.session.flush()
    now = datetime.now(UTC)
    db.session.add_all(
        [
            Interaction(
                volunteer_a_id=helper.id,
                resident_b_id=people[0].id,
                occurred_at=now - timedelta(days=2),
                duration_minutes=10,
                setting="doorstep",
                kind="visit",
            ),  # fmt: skip
            Interaction(
                volunteer_a_id=helper.id,
                resident_b_id=people[1].id,
                occurred_at=now - timedelta(days=1),
                duration_minutes=30,
                setting="inside",
                kind="befriending",
            ),  # fmt: skip
        ]
    )
    case = cases.create_case({"resident_id": people[0].id, "onset": (now - timedelta(days=2)).date().isoformat()}, None)
    unit_of_work.commit()
    return tracer, case.id


def sign_in(page: Any, user: Any) -> None:
    sign_in_page(page, user.email, PASSWORD)  # the password, then the second factor


def url_for(live_app: Any, endpoint: str, **values: Any) -> str:
    from flask import url_for as flask_url_for

    with live_app.test_request_context():
        return str(flask_url_for(endpoint, **values))


def check(page: Any, label: str, name: str) -> None:
    assert page.locator("h1").count() >= 1, label
    assert_accessible(page, label)
    assert no_horizontal_scroll(page), f"{label} is wider than the {page.viewport_size['width']} px screen"
    screenshot(page, name)


@pytest.mark.parametrize("viewport", ["360", "1280"])
def test_tracing_pages_are_accessible(
    open_page: Any, live_app: Any, make_user: Any, make_volunteer: Any, viewport: str
) -> None:
    tracer, case_id = _setup(make_user, make_volunteer)
    page = open_page(viewport)
    sign_in(page, tracer)
    for endpoint in PAGES:
        response = page.goto(url_for(live_app, endpoint))
        assert response is not None and response.status == 200, endpoint
        check(page, endpoint, f"tracing-{endpoint.split('.')[1]}-{viewport}")
    for endpoint in ("coordinator.tracing_case", "coordinator.tracing_chain"):
        response = page.goto(url_for(live_app, endpoint, case_id=case_id))
        assert response is not None and response.status == 200, endpoint
        check(page, endpoint, f"tracing-{endpoint.split('.')[1]}-{viewport}")


def test_a_tracer_without_javascript_sets_a_contact_isolating(
    open_page: Any, live_app: Any, make_user: Any, make_volunteer: Any
) -> None:
    tracer, case_id = _setup(make_user, make_volunteer)
    page = open_page("360", javascript=False)
    sign_in(page, tracer)
    page.goto(url_for(live_app, "coordinator.tracing_case", case_id=case_id))
    assert "Neighbour Person" in page.content()  # second degree, through the volunteer
    card = page.locator(".govuk-summary-card").first  # the volunteer: first degree
    card.get_by_label("New status").select_option("isolating")
    until = times.today() + timedelta(days=7)
    card.get_by_label("Day").fill(str(until.day))
    card.get_by_label("Month").fill(str(until.month))
    card.get_by_label("Year").fill(str(until.year))
    card.get_by_role("button", name="Save status").click()
    page.wait_for_load_state()
    assert "Status saved" in page.content(), page.content()[:2000]
    assert "Isolating" in page.locator(".govuk-summary-card").first.inner_text()
