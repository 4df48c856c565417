""" "Did help arrive?": the link, text replies, Notify's callbacks, follow-ups, and the notifications API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.base import utcnow
from can_crm.models.enums import FeedbackAnswer
from can_crm.models.notification import CallTask, Feedback, FeedbackLink, Notification
from can_crm.models.request import HelpRequest
from can_crm.services.notifications import feedback
from tests.integration.notify_helpers import deliver, feedback_token, messages_for

CALLBACK_TOKEN = "callback-token-for-tests-0123456789"


@pytest.fixture
def delivered(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> Any:
    return deliver(app, make_request(), make_volunteer())


@pytest.fixture
def callbacks(app: Any) -> Any:
    app.config["NOTIFY_CALLBACK_TOKEN"] = CALLBACK_TOKEN
    yield {"Authorization": f"Bearer {CALLBACK_TOKEN}"}
    app.config["NOTIFY_CALLBACK_TOKEN"] = None


def reload(db: Any, request: Any) -> HelpRequest:
    db.session.expire_all()
    return db.session.get(HelpRequest, request.id)


def test_link_shows_only_that_requests_summary(client: Any, db: Any, delivered: Any) -> None:
    page = client.get(f"/f/{feedback_token(db, delivered)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert delivered.reference in html and "Did your help arrive?" in html
    assert "Margaret" not in html and "Fulham Palace Road" not in html  # no personal details


def test_yes_confirms_and_the_link_is_then_used(client: Any, db: Any, delivered: Any) -> None:
    token = feedback_token(db, delivered)
    response = client.post(f"/f/{token}", data={"answer": "yes", "rating": "5", "comment": "Lovely"})
    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
    assert reload(db, delivered).status == "confirmed"
    saved = db.session.scalar(select(Feedback))
    assert (saved.answer, saved.rating, saved.via) == ("yes", 5, "link")
    again = client.get(f"/f/{token}")
    assert again.status_code == 200 and "already answered" in again.get_data(as_text=True)
    assert client.post(f"/f/{token}", data={"answer": "no"}).status_code == 200
    assert reload(db, delivered).status == "confirmed"


def test_no_reopens_with_raised_urgency_and_tells_coordinators(client: Any, db: Any, delivered: Any) -> None:
    response = client.post(f"/f/{feedback_token(db, delivered)}", data={"answer": "no", "comment": "Nobody came"})
    assert response.status_code == 200
    request = reload(db, delivered)
    assert (request.status, request.urgency) == ("triaged", 2)
    task = db.session.scalar(select(CallTask).where(CallTask.kind == "not_received"))
    assert task is not None and task.request_id == request.id
    assert "not_received_reopened" in [n.template for n in messages_for(db, request)]


def test_partly_also_reopens(client: Any, db: Any, delivered: Any) -> None:
    client.post(f"/f/{feedback_token(db, delivered)}", data={"answer": "partly"})
    assert reload(db, delivered).status == "triaged"


@pytest.mark.parametrize(
    "data", [{}, {"answer": "maybe"}, {"answer": "yes", "rating": "9"}, {"answer": "yes", "comment": "<script>"}]
)
def test_bad_answers_are_refused_with_a_message(client: Any, db: Any, delivered: Any, data: dict[str, str]) -> None:
    response = client.post(f"/f/{feedback_token(db, delivered)}", data=data)
    assert response.status_code == 400 and "govuk-error-summary" in response.get_data(as_text=True)
    assert reload(db, delivered).status == "delivered"


def test_altered_and_expired_links_get_kind_pages(client: Any, db: Any, delivered: Any) -> None:
    token = feedback_token(db, delivered)
    altered = client.get(f"/f/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}")
    assert altered.status_code == 404 and "could not open this link" in altered.get_data(as_text=True)
    assert client.get("/f/" + "x" * 500).status_code == 404
    link = db.session.scalar(select(FeedbackLink))
    link.expires_at = utcnow() - timedelta(minutes=1)
    unit_of_work.commit()
    expired = client.get(f"/f/{token}")
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert client.post(f"/f/{token}", data={"answer": "yes"}).status_code == 410
    assert reload(db, delivered).status == "delivered"


def test_recurring_request_confirmed_by_link_spawns_next(
    app: Any, client: Any, db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = deliver(app, make_request(request={"recurrence": "weekly"}), make_volunteer())
    client.post(f"/f/{feedback_token(db, req)}", data={"answer": "yes"})
    assert db.session.scalar(select(HelpRequest).where(HelpRequest.previous_occurrence_id == req.id)) is not None


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("yes", "yes"),
        (" Yes.", "yes"),
        ("YES!!", "yes"),
        ("NO", "no"),
        ("no thanks", "no"),
        ("Nope", "no"),
        ("partly", "partly"),
        ("only partly", "partly"),
        ("Tak", "yes"),
        ("what?", None),
        ("", None),
        ("123", None),
    ],
)
def test_text_replies_are_read(text: str, answer: str | None) -> None:
    parsed = feedback.parse_reply(text)
    assert (parsed.value if parsed else None) == answer


def inbound(text: str, number: str = "+447911123456", provider_id: str = "in-1") -> dict[str, str]:
    return {
        "id": provider_id,
        "source_number": number,
        "destination_number": "07700900000",
        "message": text,
        "date_received": "2026-11-30T10:00:00.000000Z",
    }


def test_sms_reply_no_thanks_reopens(client: Any, db: Any, delivered: Any, callbacks: Any) -> None:
    response = client.post("/notify/inbound-sms", json=inbound("no thanks", "447911123456"), headers=callbacks)
    assert response.status_code == 200 and response.get_json()["understood_as"] == "no"
    assert reload(db, delivered).status == "triaged"
    # Notify retries callbacks: the same message again changes nothing.
    assert client.post("/notify/inbound-sms", json=inbound("no thanks"), headers=callbacks).status_code == 200
    assert len(db.session.scalars(select(Feedback)).all()) == 1


def test_sms_reply_yes_confirms(client: Any, db: Any, delivered: Any, callbacks: Any) -> None:
    client.post("/notify/inbound-sms", json=inbound(" Yes."), headers=callbacks)
    assert reload(db, delivered).status == "confirmed"


def test_unclear_sms_reply_becomes_a_call_task(client: Any, db: Any, delivered: Any, callbacks: Any) -> None:
    client.post("/notify/inbound-sms", json=inbound("who is this"), headers=callbacks)
    assert reload(db, delivered).status == "delivered"
    assert db.session.scalar(select(CallTask.kind).where(CallTask.kind == "unclear_reply")) == "unclear_reply"


def test_callbacks_need_the_bearer_token(client: Any, db: Any, callbacks: Any) -> None:
    for path in ("/notify/inbound-sms", "/notify/delivery-receipts"):
        assert client.post(path, json=inbound("yes")).status_code == 401
        wrong = client.post(path, json=inbound("yes"), headers={"Authorization": "Bearer wrong-token-000000"})
        assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorised"


def test_callbacks_refuse_bad_bodies_with_4xx(client: Any, db: Any, callbacks: Any) -> None:
    bad = client.post("/notify/inbound-sms", data="not json", headers=callbacks)
    assert bad.status_code == 422 and "error" in bad.get_json()
    missing = client.post("/notify/delivery-receipts", json={"status": "delivered"}, headers=callbacks)
    assert missing.status_code == 422


def test_delivery_receipts_update_the_message(
    app: Any, client: Any, db: Any, make_request: Any, callbacks: Any
) -> None:
    req = make_request()
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    receipt = {
        "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
        "reference": f"can-n-{message.id}",
        "to": "+447911123456",
        "status": "delivered",
        "notification_type": "sms",
        "created_at": "2026-11-30T10:00:00.000000Z",
        "completed_at": "2026-11-30T10:00:05.000000Z",
        "sent_at": "2026-11-30T10:00:01.000000Z",
    }
    assert client.post("/notify/delivery-receipts", json=receipt, headers=callbacks).get_json() == {"recorded": True}
    assert messages_for(db, req)[0].status == "delivered"
    failed = {**receipt, "status": "permanent-failure"}
    client.post("/notify/delivery-receipts", json=failed, headers=callbacks)
    assert messages_for(db, req)[0].status == "failed"
    assert db.session.scalar(select(CallTask.kind)) == "message_failed"


def test_no_answer_in_time_opens_one_follow_up_call_task(app: Any, db: Any, delivered: Any) -> None:
    later = utcnow() + timedelta(hours=app.config["FEEDBACK_FOLLOW_UP_HOURS"] + 1)
    assert feedback.follow_up_unanswered(now=utcnow()) == 0
    assert feedback.follow_up_unanswered(now=later) == 1
    unit_of_work.commit()
    assert feedback.follow_up_unanswered(now=later) == 0
    assert db.session.scalar(select(CallTask.kind).where(CallTask.request_id == delivered.id)) == "no_answer"
    app.extensions["can_queue"].wait()
    assert "follow_up" in [n.template for n in messages_for(db, delivered)]


def test_coordinator_records_answer_from_a_call(db: Any, delivered: Any) -> None:
    feedback.record_by_phone(delivered, "yes", "Said thanks", user_id=None, role="coordinator")  # type: ignore[arg-type]
    unit_of_work.commit()
    assert reload(db, delivered).status == "confirmed"
    assert db.session.scalar(select(Feedback.via)) == "phone"
    assert FeedbackAnswer.YES.value == "yes"


def test_api_lists_a_requests_messages(
    app: Any, client: Any, db: Any, delivered: Any, make_user: Any, login: Any
) -> None:
    login(make_user("coordinator"))
    body = client.get(f"/api/v1/notifications?reference={delivered.reference}").get_json()
    assert body["provider"] == "outbox"
    assert [m["template"] for m in body["items"]] == ["request_received", "volunteer_on_way", "delivered_check"]
    assert body["items"][0]["channel"] == "sms" and body["items"][0]["status"] == "sent"
    assert body["items"][0]["recipient"] == "+447911123456" and delivered.reference in body["items"][0]["body"]
    assert client.get("/api/v1/notifications?reference=CAN-0000-0000").status_code == 404
    assert client.get("/api/v1/notifications").status_code == 422


def test_api_notifications_is_for_staff_only(client: Any, db: Any, delivered: Any, make_user: Any, login: Any) -> None:
    assert client.get(f"/api/v1/notifications?reference={delivered.reference}").status_code == 401
    login(make_user("partner"))
    assert client.get(f"/api/v1/notifications?reference={delivered.reference}").status_code == 403


def test_admin_sees_the_outbox(client: Any, db: Any, delivered: Any, make_user: Any, login: Any) -> None:
    login(make_user("admin"))
    page = client.get("/admin/outbox")
    assert page.status_code == 200 and delivered.reference in page.get_data(as_text=True)
    assert db.session.scalar(select(Notification.id)) is not None


def test_not_received_heat_map_layer_counts_requests_residents_said_no_to(client: Any, db: Any, delivered: Any) -> None:
    from can_crm.services.maps import data as heatmap_data
    from can_crm.services.maps.data import MapFilters
    from geo import get_layer

    assert "not-received" in heatmap_data.LAYER_KEYS
    filters = MapFilters("not-received")
    assert len(heatmap_data.load_inputs(filters).points.lat) == 0
    client.post(f"/f/{feedback_token(db, delivered)}", data={"answer": "partly"})
    points = heatmap_data.load_inputs(filters).points
    assert len(points.lat) == 1
    assert get_layer("not-received").title.startswith("Help not received")
    heatmap = heatmap_data.build(filters, heatmap_data.load_inputs(filters))
    assert heatmap is not None
