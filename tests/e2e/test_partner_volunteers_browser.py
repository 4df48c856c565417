"""A partner organisation adds a volunteer on a phone (390x844), the volunteer sets their password from the
invitation, and a coordinator vets them on a phone too. Every page passes axe-core, fits the screen, and is
photographed (artifacts/screenshots/partner-*)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_helpers import assert_accessible, no_horizontal_scroll, screenshot, sign_in_page
from sqlalchemy import select

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

PASSWORD = "correct horse battery staple"


def check(page: Any, label: str) -> None:
    assert_accessible(page, label)
    assert no_horizontal_scroll(page), f"{label} is wider than the screen"
    screenshot(page, f"partner-{label}")


def test_a_partner_adds_a_volunteer_who_sets_a_password_and_a_coordinator_vets_them(
    open_page: Any, db: Any, make_user: Any, hf_postcode: str, tmp_path: Any
) -> None:
    from can_crm.models.notification import Notification
    from can_crm.models.volunteer import Volunteer

    partner = make_user("partner", organisation="Fulham Mutual Aid")
    phone = open_page("390")
    sign_in_page(phone, partner.email, PASSWORD)
    phone.goto("/partner/volunteers")
    check(phone, "volunteers-empty")
    phone.get_by_role("button", name="Add a volunteer").click()
    phone.wait_for_url("**/partner/volunteers/new")
    check(phone, "add")

    # Mistakes first: each is shown by its field, and what was typed stays.
    phone.get_by_label("Full name").fill("Ola Nowak")
    phone.get_by_label("Email address").fill("ola-at-example")
    phone.get_by_label("Home postcode").fill(hf_postcode)
    phone.get_by_label("How far will they travel, in kilometres?").fill("lots")
    phone.get_by_role("button", name="Add volunteer").click()
    phone.get_by_text("There is a problem").wait_for()
    assert phone.get_by_label("Full name").input_value() == "Ola Nowak"
    check(phone, "add-errors")

    phone.get_by_label("Email address").fill("ola@example.org")
    phone.get_by_label("How far will they travel, in kilometres?").fill("4")
    phone.get_by_label("On foot").check()
    phone.get_by_label("Most tasks they can take on at once").fill("2")
    phone.get_by_label("Shopping").first.check()
    phone.get_by_role("button", name="Add volunteer").click()
    phone.wait_for_url("**/partner/volunteers")
    assert "Ola Nowak" in phone.content() and "Waiting for checks" in phone.content()
    check(phone, "volunteers-list")

    # A file with one wrong row: nobody added, the row and column named.
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "name,email,postcode,max_km,capacity\n"
        f"Ann One,ann@example.org,{hf_postcode},3,1\n"
        f"Bo Two,bo@example.org,{hf_postcode},far,1\n"
    )
    phone.goto("/partner/volunteers/upload")
    check(phone, "upload")
    phone.get_by_label("Volunteers file (CSV, UTF-8)").set_input_files(str(csv_file))
    phone.get_by_role("button", name="Upload and add volunteers").click()
    phone.get_by_text("Nobody was added").wait_for()
    assert "Row 3, max_km" in phone.content()
    check(phone, "upload-errors")

    db.session.rollback()
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.email == "ola@example.org"))
    message = db.session.scalar(select(Notification).where(Notification.volunteer_id == volunteer.id))
    link = re.search(r"/auth/invitation/[A-Za-z0-9_-]+", message.body)
    assert link is not None

    own_phone = open_page("390")
    own_phone.goto(link.group(0))
    check(own_phone, "invitation")
    own_phone.get_by_label("Create a password").fill(PASSWORD)
    own_phone.get_by_role("button", name="Set password and sign in").click()
    own_phone.wait_for_load_state()
    assert "/volunteer/" in own_phone.url and "Sign out" in own_phone.content()

    coordinator = open_page("390")
    sign_in_page(coordinator, make_user("coordinator").email, PASSWORD)
    coordinator.goto("/coordinator/volunteers")
    assert "Added by Fulham Mutual Aid" in coordinator.content()
    coordinator.goto(f"/coordinator/volunteers/{volunteer.id}/vetting")
    assert "Fulham Mutual Aid (partner organisation)" in coordinator.content()
    check(coordinator, "coordinator-vetting")
    coordinator.get_by_label("I have seen proof of their identity").check()
    coordinator.get_by_label("Approve: they can be offered work").check()
    coordinator.get_by_role("button", name="Record the decision").click()
    coordinator.wait_for_url("**/coordinator/volunteers")

    phone.goto("/partner/volunteers")
    assert "Approved" in phone.content() and "Identity: seen" in phone.content()
    assert "Has not set a password yet" not in phone.content()
    check(phone, "volunteers-approved")
