"""Messages to residents: queued with the business change, sent by a job after the commit, never twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.clients.notify import OutboxProvider, SendFailed
from can_crm.models.notification import CallTask, Notification, OutboxMessage
from can_crm.models.resident import Resident
from can_crm.services.notifications import outgoing, sending
from tests.integration.notify_helpers import deliver, messages_for


def outbox_count(db: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_request_received_is_sent_after_the_commit_with_its_reference(app: Any, db: Any, make_request: Any) -> None:
    req = make_request()
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    assert (message.template, message.channel, message.status) == ("request_received", "sms", "sent")
    assert message.recipient == "+447911123456"
    stored = db.session.scalar(select(OutboxMessage))
    assert req.reference in stored.payload["body"] and stored.reference == f"can-n-{message.id}"


def test_a_request_that_rolls_back_sends_nothing(app: Any, db: Any, resident_data: dict[str, Any]) -> None:
    from can_crm.models.enums import Channel
    from can_crm.services.requests import intake as requests
    from can_crm.services.requests.events import Actor

    requests.submit({"type": "shopping"}, Actor(role="coordinator"), Channel.PHONE, resident_data=resident_data)
    unit_of_work.rollback()
    app.extensions["can_queue"].wait()
    assert outbox_count(db) == 0


def test_delivered_asks_did_help_arrive_with_a_link(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = deliver(app, make_request(), make_volunteer())
    templates = [n.template for n in messages_for(db, req)]
    assert templates == ["request_received", "volunteer_on_way", "delivered_check"]
    check = messages_for(db, req)[-1]
    assert "/f/" in check.body and "YES" in check.body


def test_sending_twice_sends_once(app: Any, db: Any, make_request: Any) -> None:
    req = make_request()
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    assert sending.deliver(message.id) == {"outcome": "already sent"}
    unit_of_work.commit()
    assert outbox_count(db) == 1


def test_a_send_interrupted_after_it_started_is_found_not_resent(app: Any, db: Any, make_request: Any) -> None:
    req = make_request()
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    # As if a worker had sent it and died before recording the outcome.
    message.status, message.send_started_at = "queued", message.sent_at
    unit_of_work.commit()
    assert sending.deliver(message.id) == {"outcome": "found sent earlier"}
    unit_of_work.commit()
    assert outbox_count(db) == 1


def test_failures_back_off_then_fail_and_tell_coordinators(
    app: Any, db: Any, make_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Any, message: Any) -> str:
        raise SendFailed("Notify answered 500", permanent=False)

    monkeypatch.setattr(OutboxProvider, "send", refuse)
    req = make_request()
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    assert message.status == "retrying" and message.attempts == 1
    first_wait = message.next_attempt_at - message.updated_at
    assert sending.retry_due() == 0  # not yet due
    for _ in range(app.config["NOTIFY_MAX_ATTEMPTS"] - 1):
        db.session.expire_all()
        due_at = db.session.get(Notification, message.id).next_attempt_at
        assert sending.retry_due(now=due_at + timedelta(seconds=1)) == 1
        unit_of_work.commit()
        app.extensions["can_queue"].wait()
    db.session.expire_all()
    message = db.session.get(Notification, message.id)
    assert message.status == "failed" and message.attempts == app.config["NOTIFY_MAX_ATTEMPTS"]
    assert first_wait >= timedelta(seconds=app.config["NOTIFY_RETRY_SECONDS"] - 1)
    task = db.session.scalar(select(CallTask).where(CallTask.notification_id == message.id))
    assert task is not None and task.kind == "message_failed"


def test_backoff_doubles(app: Any, db: Any) -> None:
    base = app.config["NOTIFY_RETRY_SECONDS"]
    assert [sending.backoff(n).total_seconds() for n in (1, 2, 3)] == [base, 2 * base, 4 * base]


def test_opted_out_resident_gets_nothing(app: Any, db: Any, make_request: Any) -> None:
    req = make_request()
    app.extensions["can_queue"].wait()
    db.session.get(Resident, req.resident_id).notifications_opt_out = True
    assert outgoing.send("follow_up", resident_id=req.resident_id, request=req) is None
    unit_of_work.commit()
    assert [n.template for n in messages_for(db, req)] == ["request_received"]


def test_no_mobile_and_no_email_becomes_a_call_task(app: Any, db: Any, make_request: Any) -> None:
    req = make_request(resident={"phone": "020 7946 0000"})
    app.extensions["can_queue"].wait()
    assert messages_for(db, req) == []
    task = db.session.scalar(select(CallTask).where(CallTask.request_id == req.id))
    assert task is not None and task.kind == "no_contact"


def test_letter_goes_to_the_postal_address(app: Any, db: Any, make_request: Any) -> None:
    req = make_request(resident={"preferred_channel": "letter"})
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    assert message.channel == "letter" and message.recipient is None
    assert (
        message.address[0] == "Margaret Okafor"
        and message.address[-1] == db.session.get(Resident, req.resident_id).postcode
    )


def test_volunteers_can_be_messaged_by_id(app: Any, db: Any, make_volunteer: Any) -> None:
    volunteer = make_volunteer()
    message = outgoing.send("contact_tracing", volunteer_id=volunteer.id)
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    db.session.expire_all()
    assert db.session.get(Notification, message.id).status == "sent"


def test_messages_are_written_in_the_residents_language(app: Any, db: Any, make_request: Any) -> None:
    req = make_request(resident={"locale": "pl"})
    app.extensions["can_queue"].wait()
    [message] = messages_for(db, req)
    assert message.locale == "pl"
