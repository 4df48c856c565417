"""The GOV.UK Notify adapter against a local server that checks what the official client sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from can_crm.clients.notify import NotifyProvider, OutgoingMessage, SendFailed
from tests.fake_notify import API_KEY, FakeNotify, fake_notify

TEMPLATES = {"sms": "sms-template-id", "email": "email-template-id", "letter": "letter-template-id"}


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with fake_notify() as server:
        yield server


def provider(server: FakeNotify, key: str = API_KEY) -> NotifyProvider:
    return NotifyProvider(key, server.url, TEMPLATES, timeout=5)


def test_sms_is_posted_with_a_signed_jwt_and_our_reference(notify: FakeNotify) -> None:
    sent_id = provider(notify).send(OutgoingMessage("can-n-7", "sms", "+447911123456", "Your reference is CAN-1"))
    [message] = notify.received
    assert notify.rejected == []
    assert message["path"] == "/v2/notifications/sms" and message["id"] == sent_id
    assert message["payload"] == {
        "phone_number": "+447911123456",
        "template_id": "sms-template-id",
        "personalisation": {"body": "Your reference is CAN-1"},
        "reference": "can-n-7",
    }


def test_email_and_letter_payloads(notify: FakeNotify) -> None:
    p = provider(notify)
    p.send(OutgoingMessage("can-n-8", "email", "a@example.com", "Body", subject="Subject"))
    p.send(OutgoingMessage("can-n-9", "letter", None, "Body", address=("A Person", "1 Road", "W6 9AA")))
    email, letter = notify.received
    assert email["path"] == "/v2/notifications/email"
    assert email["payload"]["email_address"] == "a@example.com"
    assert email["payload"]["personalisation"] == {"body": "Body", "subject": "Subject"}
    assert letter["path"] == "/v2/notifications/letter"
    assert letter["payload"]["personalisation"] == {
        "body": "Body",
        "address_line_1": "A Person",
        "address_line_2": "1 Road",
        "address_line_3": "W6 9AA",
    }


def test_find_asks_notify_by_reference(notify: FakeNotify) -> None:
    p = provider(notify)
    sent_id = p.send(OutgoingMessage("can-n-10", "sms", "+447911123456", "x"))
    assert p.find("can-n-10") == sent_id
    assert p.find("can-n-11") is None


def test_a_wrong_key_is_a_permanent_failure(notify: FakeNotify) -> None:
    wrong = API_KEY[:-36] + "00000000-0000-0000-0000-000000000000"
    with pytest.raises(SendFailed) as failed:
        provider(notify, wrong).send(OutgoingMessage("can-n-12", "sms", "+447911123456", "x"))
    assert failed.value.permanent and notify.received == [] and notify.rejected


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (429, False), (500, False), (503, False)])
def test_provider_errors_say_whether_retrying_can_help(notify: FakeNotify, status: int, permanent: bool) -> None:
    notify.fail_with = status
    with pytest.raises(SendFailed) as failed:
        provider(notify).send(OutgoingMessage("can-n-13", "sms", "+447911123456", "x"))
    assert failed.value.permanent is permanent


def test_unreachable_notify_is_temporary() -> None:
    p = NotifyProvider(API_KEY, "http://127.0.0.1:9", TEMPLATES, timeout=2)
    with pytest.raises(SendFailed) as failed:
        p.send(OutgoingMessage("can-n-14", "sms", "+447911123456", "x"))
    assert not failed.value.permanent


def test_app_sends_through_notify_when_a_key_is_set(app: Any, db: Any, make_request: Any, notify: FakeNotify) -> None:
    app.config.update(NOTIFY_API_KEY=API_KEY, NOTIFY_BASE_URL=notify.url, NOTIFY_SMS_TEMPLATE_ID="sms-template-id")
    app.extensions.pop("can_notify", None)
    try:
        req = make_request()
        app.extensions["can_queue"].wait()
    finally:
        app.config.update(NOTIFY_API_KEY=None)
        app.extensions.pop("can_notify", None)
    [message] = notify.received
    assert req.reference in message["payload"]["personalisation"]["body"]
    assert message["payload"]["reference"].startswith("can-n-")
