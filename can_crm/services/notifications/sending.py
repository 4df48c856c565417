"""Sending a queued message (the send job), retries with back-off, and Notify's delivery receipts.

Never twice: the job's writes commit with its success mark (runner), and just before the provider is called
`send_started_at` is committed on a connection of its own. A later attempt that finds it set, but the message
not marked sent (the worker died mid-send), asks the provider by our reference and records what it finds
instead of sending again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from can_crm.clients.notify import OutgoingMessage, SendFailed, provider_for
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import CallTaskKind, EventKind, MessageStatus
from can_crm.models.notification import Notification, OutboxMessage
from can_crm.models.request import HelpRequest
from can_crm.services.common.jobs import start_job
from can_crm.services.notifications import calltasks
from can_crm.services.requests.events import SYSTEM, Actor, record_event

log = logging.getLogger(__name__)
DONE = {MessageStatus.SENT.value, MessageStatus.DELIVERED.value, MessageStatus.FAILED.value}


def reference_of(notification: Notification) -> str:
    """Our reference for a message, unique and stable across attempts (what Notify stores with it)."""
    return f"can-n-{notification.id}"


def _mark_send_started(notification_id: int) -> None:
    """Committed at once on its own connection: it must survive the job's transaction rolling back."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Notification.__table__)
            .where(Notification.__table__.c.id == notification_id)
            .values(send_started_at=utcnow())
        )


def deliver(notification_id: int) -> dict[str, Any]:
    """Send one message (the `send_notification` job). Safe to run again for the same message."""
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        return {"outcome": "gone"}
    if notification.status in DONE:
        return {"outcome": "already " + notification.status}
    provider = provider_for(current_app._get_current_object())  # type: ignore[attr-defined]
    reference = reference_of(notification)
    try:
        if notification.send_started_at is not None:
            found = provider.find(reference)
            if found is not None:
                _mark_sent(notification, provider.name, found)
                return {"outcome": "found sent earlier"}
        else:
            _mark_send_started(notification.id)
        provider_id = provider.send(
            OutgoingMessage(
                reference=reference,
                channel=notification.channel,
                recipient=notification.recipient,
                body=notification.body,
                subject=notification.subject,
                address=tuple(notification.address or ()),
            )
        )
    except SendFailed as exc:
        return _failed(notification, str(exc), permanent=exc.permanent)
    _mark_sent(notification, provider.name, provider_id)
    return {"outcome": "sent"}


def _mark_sent(notification: Notification, provider: str, provider_id: str) -> None:
    notification.status = MessageStatus.SENT.value
    notification.provider = provider
    notification.provider_id = provider_id
    notification.sent_at = utcnow()
    notification.attempts += 1
    notification.error = None
    db.session.flush()


def backoff(attempts: int) -> timedelta:
    base = int(current_app.config["NOTIFY_RETRY_SECONDS"])
    return timedelta(seconds=base * 2 ** max(0, attempts - 1))


def _failed(notification: Notification, error: str, *, permanent: bool) -> dict[str, Any]:
    notification.attempts += 1
    notification.error = error[:2000]
    limit = int(current_app.config["NOTIFY_MAX_ATTEMPTS"])
    if permanent or notification.attempts >= limit:
        _give_up(notification)
        outcome = "failed"
    else:
        notification.status = MessageStatus.RETRYING.value
        notification.next_attempt_at = utcnow() + backoff(notification.attempts)
        outcome = "retrying"
    log.info("notification %s attempt %s: %s", notification.id, notification.attempts, outcome)
    db.session.flush()
    return {"outcome": outcome}


def _give_up(notification: Notification) -> None:
    """Failed for good: coordinators see it on their call list, and the request's history says so."""
    notification.status = MessageStatus.FAILED.value
    notification.next_attempt_at = None
    request = db.session.get(HelpRequest, notification.request_id) if notification.request_id else None
    if notification.resident_id is not None:
        calltasks.open_task(
            CallTaskKind.MESSAGE_FAILED,
            f"message_failed:n{notification.id}",
            request=request,
            resident_id=notification.resident_id,
            notification_id=notification.id,
        )
    elif request is not None:
        record_event(request, Actor(role=SYSTEM), EventKind.NOTIFICATION, reason=f"{notification.template} failed")


def retry_due(now: datetime | None = None, limit: int = 500) -> int:
    """Periodic: start a send job for each message whose back-off has passed. Returns how many."""
    now = now or utcnow()
    query = (
        select(Notification)
        .where(Notification.status == MessageStatus.RETRYING.value, Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    due = list(db.session.scalars(query))
    for notification in due:
        notification.status = MessageStatus.QUEUED.value
        start_job("send_notification", {"notification_id": notification.id}, None)
    db.session.flush()
    return len(due)


# GOV.UK Notify delivery statuses: https://docs.notifications.service.gov.uk (callbacks).
_RECEIPT_FAILED = {"permanent-failure", "temporary-failure", "technical-failure", "validation-failed"}


def apply_receipt(provider_id: str, reference: str | None, status: str) -> Notification | None:
    """A delivery receipt: `delivered` marks the message delivered; a failure fails it (and opens a call task)."""
    notification = None
    number = reference[6:] if reference and reference.startswith("can-n-") else ""
    if number.isascii() and number.isdigit() and len(number) <= 9:  # "²" is a digit int() refuses; ids are int4
        notification = db.session.get(Notification, int(number))
    if notification is None:
        notification = db.session.scalar(select(Notification).where(Notification.provider_id == provider_id))
    if notification is None:
        return None
    if status == "delivered":
        notification.status = MessageStatus.DELIVERED.value
    elif status in _RECEIPT_FAILED and notification.status != MessageStatus.FAILED.value:
        notification.error = f"Notify: {status}"
        _give_up(notification)
    db.session.flush()
    return notification


def failed_messages(limit: int = 100) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.status == MessageStatus.FAILED.value)
        .order_by(Notification.updated_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def for_request(request_id: int) -> list[Notification]:
    query = select(Notification).where(Notification.request_id == request_id).order_by(Notification.id)
    return list(db.session.scalars(query))


def recent(limit: int = 200) -> list[OutboxMessage]:
    """The outbox provider's latest messages, newest first (admins: /admin/outbox)."""
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
