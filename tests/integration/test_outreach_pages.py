"""Outreach, campaigns, call tasks and the dashboard, through the coordinator's pages."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm.models.notification import CallTask
from can_crm.models.outreach import CampaignContact, ShieldedImport
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from geo.directory import PostcodeDirectory
from tests.integration.error_page_helpers import assert_message_by_field
from tests.integration.notify_helpers import deliver, feedback_token
from tests.shielded_helpers import csv_bytes, rows


@pytest.fixture
def coordinator(client: Any, make_user: Any, login: Any) -> Any:
    return login(make_user("coordinator"))


@pytest.fixture
def postcodes(postcode_index: Path) -> list[str]:
    return sorted(PostcodeDirectory.load(postcode_index))[:10]


def upload(client: Any, content: bytes, **extra: Any) -> Any:
    data = {"file": (io.BytesIO(content), "list.csv"), **extra}
    return client.post("/coordinator/outreach/import", data=data, content_type="multipart/form-data")


def test_upload_runs_as_a_job_with_progress_and_an_error_file(
    app: Any, coordinator: Any, db: Any, postcodes: list[str]
) -> None:
    data = rows(20, postcodes)
    data[3][0] = "=cmd|' /C calc'!A0"
    response = upload(coordinator, csv_bytes(data))
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    app.extensions["can_queue"].wait()
    progress = coordinator.get(response.headers["Location"])
    assert progress.status_code == 200 and "<progress" in progress.get_data(as_text=True)
    record = db.session.scalar(select(ShieldedImport))
    db.session.refresh(record)
    assert record.state == "done" and record.summary["imported"] == 19 and record.content is None
    errors = coordinator.get(f"/coordinator/outreach/imports/{record.id}/errors.csv")
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    assert "'=cmd" in errors.get_data(as_text=True)
    page = coordinator.get("/coordinator/outreach").get_data(as_text=True)
    assert "19 new" in page


def test_a_hostile_upload_is_refused_and_imports_nothing(app: Any, coordinator: Any, db: Any) -> None:
    upload(coordinator, b"\x00\x01\x02binary")
    app.extensions["can_queue"].wait()
    record = db.session.scalar(select(ShieldedImport))
    db.session.refresh(record)
    assert record.state == "refused" and "binary" in record.refused_reason
    assert db.session.scalar(select(func.count()).select_from(Resident)) == 0


def test_upload_without_a_file_is_a_form_error(coordinator: Any, db: Any) -> None:
    response = coordinator.post("/coordinator/outreach/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose the CSV file" in response.get_data(as_text=True)


def import_cohort(db: Any, postcodes: list[str], count: int = 10) -> None:
    from can_crm import unit_of_work
    from can_crm.services.outreach import shielded

    shielded.import_shielded(csv_bytes(rows(count, postcodes)))
    unit_of_work.commit()


def test_call_list_campaign_needs_help_raises_a_request_in_one_step(
    coordinator: Any, db: Any, postcodes: list[str]
) -> None:
    import_cohort(db, postcodes)
    response = coordinator.post("/coordinator/outreach/campaigns", data={"name": "Week 1 calls", "channel": "phone"})
    assert response.status_code == 302
    page = coordinator.get(response.headers["Location"])
    assert page.status_code == 200 and "Record call" in page.get_data(as_text=True)
    contact = db.session.scalar(select(CampaignContact).order_by(CampaignContact.id))
    refused = coordinator.post(f"/coordinator/outreach/contacts/{contact.id}/outcome", data={"outcome": "needs_help"})
    assert refused.status_code == 400 and "what help they need" in refused.get_data(as_text=True)
    done = coordinator.post(
        f"/coordinator/outreach/contacts/{contact.id}/outcome",
        data={"outcome": "needs_help", "type": "shopping", "note": "Weekly shop"},
    )
    assert done.status_code == 302
    request = db.session.scalar(select(HelpRequest))
    assert request.channel == "campaign" and request.resident_id == contact.resident_id
    funnel = coordinator.get(done.headers["Location"]).get_data(as_text=True)
    assert "Asked for help" in funnel
    bad = coordinator.post(f"/coordinator/outreach/contacts/{contact.id}/outcome", data={"outcome": "exploded"})
    assert bad.status_code == 400


def test_refused_call_outcome_is_shown_by_its_field_with_what_was_entered(
    coordinator: Any, db: Any, postcodes: list[str]
) -> None:
    import_cohort(db, postcodes, 3)
    coordinator.post("/coordinator/outreach/campaigns", data={"name": "Check-in", "channel": "phone"})
    first, second = db.session.scalars(select(CampaignContact).order_by(CampaignContact.id)).all()[:2]
    url = f"/coordinator/outreach/contacts/{second.id}/outcome"
    missing = coordinator.post(url, data={"type": "shopping", "note": "Rang twice"})
    page = assert_message_by_field(missing, 400, f"outcome-{second.id}", "Select what happened on the call")
    assert f'id="note-{second.id}" name="note" type="text" value="Rang twice"' in page
    assert 'value="shopping" selected' in page
    assert f"outcome-{first.id}-error" not in page  # only the form that was posted shows messages

    no_type = coordinator.post(url, data={"outcome": "needs_help", "note": "<b>help</b>"})
    assert no_type.status_code == 400
    assert_message_by_field(no_type, 400, f"note-{second.id}", "must not contain HTML")
    no_type = coordinator.post(url, data={"outcome": "needs_help", "note": "Wants shopping"})
    page = assert_message_by_field(no_type, 400, f"type-{second.id}", "Select what help they need")
    assert 'value="needs_help" selected' in page and 'value="Wants shopping"' in page

    # Reached since the page was loaded (no longer on the call list): the refused form is shown all the same.
    assert coordinator.post(url, data={"outcome": "no_help_needed"}).status_code == 302
    again = coordinator.post(url, data={"outcome": "exploded"})
    assert_message_by_field(again, 400, f"outcome-{second.id}", "Select what happened on the call")
    db.session.refresh(second)
    assert second.outcome == "no_help_needed" and second.attempts == 1


def test_automated_call_campaign_records_outcomes(app: Any, coordinator: Any, db: Any, postcodes: list[str]) -> None:
    import_cohort(db, postcodes, 30)
    coordinator.post("/coordinator/outreach/campaigns", data={"name": "Robocall", "channel": "auto_call"})
    app.extensions["can_queue"].wait()
    outcomes = db.session.scalars(select(CampaignContact.outcome)).all()
    assert len(outcomes) == 30 and all(outcomes)


def test_sms_campaign_messages_everyone_with_a_mobile(
    app: Any, coordinator: Any, db: Any, postcodes: list[str]
) -> None:
    import_cohort(db, postcodes, 9)
    coordinator.post("/coordinator/outreach/campaigns", data={"name": "Texts", "channel": "sms"})
    app.extensions["can_queue"].wait()
    from can_crm.models.notification import Notification

    channels = db.session.scalars(select(Notification.channel)).all()
    # Two in three have a mobile; those with no phone at all get a letter; a landline only: a call task.
    assert sorted(channels) == ["letter"] * 2 + ["sms"] * 6
    assert db.session.scalar(select(func.count()).select_from(CallTask)) == 1


def test_campaign_form_errors(coordinator: Any, db: Any) -> None:
    response = coordinator.post("/coordinator/outreach/campaigns", data={"name": "", "channel": "pigeon"})
    assert response.status_code == 400


def test_dashboard_draws_svg_with_tables_and_csv(
    app: Any, coordinator: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = deliver(app, make_request(), make_volunteer())
    coordinator.post(f"/f/{feedback_token(db, req)}", data={"answer": "no"})
    page = coordinator.get("/coordinator/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "<script" not in html.split("<main")[1].split("</main>")[0]
    assert html.count('class="govuk-table"') >= 5 and "Not received" in html
    csv_file = coordinator.get("/coordinator/dashboard/outcomes.csv")
    assert csv_file.status_code == 200 and csv_file.get_data(as_text=True).startswith("Answer,Requests")
    assert coordinator.get("/coordinator/dashboard/nothing.csv").status_code == 404


def test_call_tasks_page_lists_and_completes(
    app: Any, coordinator: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = deliver(app, make_request(), make_volunteer())
    coordinator.post(f"/f/{feedback_token(db, req)}", data={"answer": "no"})
    page = coordinator.get("/coordinator/call-tasks").get_data(as_text=True)
    assert req.reference in page and "did not arrive" in page
    task = db.session.scalar(select(CallTask))
    assert coordinator.post(f"/coordinator/call-tasks/{task.id}/done").status_code == 302
    db.session.refresh(task)
    assert task.done_at is not None


def test_coordinator_records_a_phone_answer(
    app: Any, coordinator: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = deliver(app, make_request(), make_volunteer())
    assert "Record answer" in coordinator.get(f"/coordinator/requests/{req.reference}").get_data(as_text=True)
    coordinator.post(f"/coordinator/requests/{req.reference}/feedback", data={"answer": "yes"})
    db.session.expire_all()
    assert db.session.get(HelpRequest, req.id).status == "confirmed"
    again = coordinator.post(f"/coordinator/requests/{req.reference}/feedback", data={"answer": "yes"})
    assert again.status_code in (302, 303)


def test_help_reply_to_a_campaign_text_puts_them_on_the_call_list(
    app: Any, coordinator: Any, db: Any, postcodes: list[str]
) -> None:
    from can_crm import unit_of_work
    from can_crm.models.base import utcnow
    from can_crm.services.notifications import feedback

    import_cohort(db, postcodes, 3)
    coordinator.post("/coordinator/outreach/campaigns", data={"name": "Texts", "channel": "sms"})
    app.extensions["can_queue"].wait()
    inbound = feedback.inbound_sms("in-help-1", "+447911000001", "Help please", utcnow())
    unit_of_work.commit()
    assert inbound.understood_as == "help"
    contact = db.session.scalar(select(CampaignContact).where(CampaignContact.outcome == "needs_help"))
    assert contact is not None and contact.request_id is None
    page = coordinator.get(f"/coordinator/outreach/campaigns/{contact.campaign_id}").get_data(as_text=True)
    assert "Needs help" in page
