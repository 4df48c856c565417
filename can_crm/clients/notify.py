"""Sending messages: GOV.UK Notify through its official client, or the outbox (the database) without a key.

Both providers take an `OutgoingMessage` whose `reference` is ours and unique per message, and answer the
provider's id for it. `find(reference)` asks whether a message already went: the send job calls it when a
previous attempt started sending and never recorded the outcome (a worker killed mid-send), so a message is
never sent twice. Notify keeps the reference we send and lists notifications by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.notification import OutboxMessage


@dataclass(frozen=True)
class OutgoingMessage:
    reference: str
    channel: str  # sms, email, letter
    recipient: str | None  # E.164 phone number or email address; None for a letter
    body: str
    subject: str | None = None
    address: tuple[str, ...] = ()  # letters: the address lines, the postcode last


class SendFailed(Exception):  # noqa: N818 - the name reads as what happened
    """The provider refused or could not be reached. `permanent`: trying again cannot help (bad number...)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class MessageProvider(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> str: ...

    def find(self, reference: str) -> str | None: ...


class OutboxProvider:
    """No key: the message is stored in the database, in the send job's own transaction (so exactly once)."""

    name = "outbox"

    def send(self, message: OutgoingMessage) -> str:
        payload: dict[str, Any] = {"body": message.body}
        if message.subject:
            payload["subject"] = message.subject
        if message.address:
            payload["address"] = list(message.address)
        row = OutboxMessage(
            reference=message.reference, channel=message.channel, recipient=message.recipient, payload=payload
        )
        db.session.add(row)
        db.session.flush()
        return f"outbox-{row.id}"

    def find(self, reference: str) -> str | None:
        found = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.reference == reference))
        return f"outbox-{found}" if found is not None else None


class NotifyProvider:
    """GOV.UK Notify. Each template holds ((body)), ((subject)) for email, and the address lines for letters."""

    name = "notify"

    def __init__(self, api_key: str, base_url: str, templates: dict[str, str], timeout: int = 20) -> None:
        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=timeout)
        self.templates = templates

    def send(self, message: OutgoingMessage) -> str:
        template_id = self.templates.get(message.channel)
        if not template_id:
            raise SendFailed(f"no Notify template configured for {message.channel}", permanent=True)
        personalisation: dict[str, Any] = {"body": message.body}
        try:
            if message.channel == "sms":
                response = self.client.send_sms_notification(
                    message.recipient, template_id, personalisation, reference=message.reference
                )
            elif message.channel == "email":
                personalisation["subject"] = message.subject or ""
                response = self.client.send_email_notification(
                    message.recipient, template_id, personalisation, reference=message.reference
                )
            else:
                lines = list(message.address)[:7]
                personalisation.update({f"address_line_{i}": line for i, line in enumerate(lines, start=1)})
                response = self.client.send_letter_notification(template_id, personalisation, message.reference)
        except APIError as exc:
            # 400/403: the request itself is wrong (bad number, bad key) and will be every time; 429/5xx pass.
            raise SendFailed(f"Notify answered {exc.status_code}", permanent=exc.status_code in (400, 403)) from exc
        return str(response["id"])

    def find(self, reference: str) -> str | None:
        try:
            found = self.client.get_all_notifications(reference=reference).get("notifications") or []
        except APIError as exc:
            raise SendFailed(f"Notify answered {exc.status_code}", permanent=False) from exc
        return str(found[0]["id"]) if found else None


def provider_for(app: Flask) -> MessageProvider:
    """The provider this app sends with: Notify when NOTIFY_API_KEY is set, otherwise the outbox."""
    key = app.config.get("NOTIFY_API_KEY")
    if not key:
        return OutboxProvider()
    cached = app.extensions.get("can_notify")
    if cached is None:
        cached = NotifyProvider(
            key,
            app.config["NOTIFY_BASE_URL"],
            {
                "sms": app.config["NOTIFY_SMS_TEMPLATE_ID"],
                "email": app.config["NOTIFY_EMAIL_TEMPLATE_ID"],
                "letter": app.config["NOTIFY_LETTER_TEMPLATE_ID"],
            },
            int(app.config.get("NOTIFY_TIMEOUT_SECONDS", 20)),
        )
        app.extensions["can_notify"] = cached
    return cached
