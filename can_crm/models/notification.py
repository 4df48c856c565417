"""Messages to residents and volunteers, "did help arrive?" links, call tasks and inbound replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import CallTaskKind, FeedbackAnswer, MessageChannel, MessageStatus


class Notification(db.Model):  # type: ignore[name-defined]
    """One message. The row is written in the business transaction; a job sends it after the commit."""

    __tablename__ = "notifications"
    __table_args__ = (
        enum_check("channel", MessageChannel),
        enum_check("status", MessageStatus),
        # One message per (event, subject): a repeated call to send() finds the row and adds nothing.
        UniqueConstraint("dedupe_key", name="uq_notifications_dedupe_key"),
        Index("ix_notifications_request_id", "request_id", "id"),
        Index("ix_notifications_status", "status", "next_attempt_at"),
        Index("ix_notifications_recipient", "recipient"),
        Index("ix_notifications_provider_id", "provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), info={"personal": False})
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    template: Mapped[str] = mapped_column(String(40), info={"personal": False})
    channel: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(5), default="en")
    recipient: Mapped[str | None] = mapped_column(String(254), info={"personal": True})
    # Letters: the postal address lines, in Notify's address_line_N personalisation form.
    address: Mapped[list[str] | None] = mapped_column(JSON, info={"personal": True})
    subject: Mapped[str | None] = mapped_column(String(200), info={"personal": True})
    body: Mapped[str] = mapped_column(Text, default="", info={"personal": True})
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED.value)
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(String(64), info={"personal": False})
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set (on its own committed transaction) just before the provider is called: a retry that finds it
    # asks the provider whether the message went, instead of sending it again.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """What the outbox provider "sent": the message as a provider would have received it (no key set)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (UniqueConstraint("reference", name="uq_outbox_messages_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str | None] = mapped_column(String(254), info={"personal": True})
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info={"personal": True})
    created_at: Mapped[datetime] = created_at_column()


class FeedbackLink(db.Model):  # type: ignore[name-defined]
    """A "did help arrive?" link for one request: only the token's SHA-256 is stored."""

    __tablename__ = "feedback_links"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_feedback_links_token_hash"),
        Index("ix_feedback_links_request_id", "request_id"),
        Index("ix_feedback_links_pending", "answered_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), info={"personal": False})
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Feedback(db.Model):  # type: ignore[name-defined]
    """The resident's answer to "did help arrive?", by link, SMS reply or a coordinator's phone call."""

    __tablename__ = "feedback"
    __table_args__ = (enum_check("answer", FeedbackAnswer), Index("ix_feedback_request_id", "request_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(8))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    via: Mapped[str] = mapped_column(String(10))  # link, sms, phone
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class CallTask(db.Model):  # type: ignore[name-defined]
    """Something a coordinator must do by phone: no way to message, no answer, help did not arrive..."""

    __tablename__ = "call_tasks"
    __table_args__ = (
        enum_check("kind", CallTaskKind),
        Index("ix_call_tasks_open", "done_at", "created_at"),
        UniqueConstraint("dedupe_key", name="uq_call_tasks_dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), info={"personal": False})
    kind: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    created_at: Mapped[datetime] = created_at_column()
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class InboundMessage(db.Model):  # type: ignore[name-defined]
    """A text message a resident sent us (Notify's inbound SMS callback)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider_id", name="uq_inbound_messages_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), info={"personal": False})
    source_number: Mapped[str] = mapped_column(String(20), info={"personal": True})
    message: Mapped[str] = mapped_column(Text, info={"personal": True})
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    understood_as: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = created_at_column()
