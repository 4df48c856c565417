"""Handoff between authorities: partner authorities, handoffs both ways, the data-sharing log, refused bundles,
and the API keys civic apps use for Open311."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import LawfulBasis
from can_crm.models.request import HelpRequest

HANDOFF_DIRECTIONS = ("out", "in")
# out: queued (to push, or waiting for its back-off), acknowledged, rejected, failed (gave up), exported (a file)
# in: received
HANDOFF_STATES = ("queued", "acknowledged", "rejected", "failed", "exported", "received")


class Partner(db.Model):  # type: ignore[name-defined]
    """Another authority running CAN CRM, and the agreement under which we share data with it."""

    __tablename__ = "partners"
    __table_args__ = (enum_check("lawful_basis", LawfulBasis),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gss_code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Their instance, for pushes over HTTPS; None for authorities that exchange files only.
    base_url: Mapped[str | None] = mapped_column(String(300))
    # Ed25519 public keys, base64url of the raw 32 bytes. The previous key verifies bundles signed before
    # `key_rotated_at` until `previous_key_expires_at` (their rotation's grace period).
    public_key: Mapped[str] = mapped_column(String(64))
    previous_public_key: Mapped[str | None] = mapped_column(String(64))
    key_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    previous_key_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agreement_ref: Mapped[str] = mapped_column(String(120))
    lawful_basis: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Handoff(db.Model):  # type: ignore[name-defined]
    """One bundle, sent (`out`) or received (`in`). The signed bundle is kept as it went, so a retry re-sends the
    same bytes and a replay is recognised by its bundle id."""

    __tablename__ = "handoffs"
    __table_args__ = (
        UniqueConstraint("direction", "bundle_id", name="uq_handoffs_direction_bundle_id"),
        CheckConstraint("direction IN ('out', 'in')", name="direction_valid"),
        CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in HANDOFF_STATES) + ")", name="state_valid"),
        Index("ix_handoffs_request_id", "request_id", "id"),
        Index("ix_handoffs_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[str] = mapped_column(String(36), info={"personal": False})
    direction: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(12))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(4), default="http")
    reason: Mapped[str] = mapped_column(Text, info={"personal": True})
    notes: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    # The other side's reference for the request: theirs once they acknowledge (out), the sender's (in).
    partner_reference: Mapped[str | None] = mapped_column(String(20))
    rejection_reason: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    bundle: Mapped[dict[str, Any]] = mapped_column(JSON, info={"personal": True})
    attempts: Mapped[int] = mapped_column(default=0)
    # When the next push is due; None while a job has it in hand.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300), info={"personal": True})
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    request: Mapped[HelpRequest] = relationship(lazy="raise")
    partner: Mapped[Partner] = relationship(lazy="raise")


class DataSharingEntry(db.Model):  # type: ignore[name-defined]
    """One disclosure of personal data to, or from, another authority: what, to whom, when, why, which agreement.
    Only ever inserted."""

    __tablename__ = "data_sharing_log"
    __table_args__ = (
        CheckConstraint("direction IN ('disclosed', 'received')", name="direction_valid"),
        Index("ix_data_sharing_log_created_at", "created_at", "id"),
        Index("ix_data_sharing_log_bundle_id", "bundle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(10))
    partner_gss: Mapped[str] = mapped_column(String(9))
    partner_name: Mapped[str] = mapped_column(String(120))
    bundle_id: Mapped[str] = mapped_column(String(36))
    request_reference: Mapped[str] = mapped_column(String(20))
    partner_reference: Mapped[str | None] = mapped_column(String(20))
    data_categories: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text, info={"personal": True})
    agreement_ref: Mapped[str] = mapped_column(String(120))
    lawful_basis: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(4))
    # acknowledged / rejected (a push that got an answer), exported (a file), imported (received and created)
    outcome: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class HandoffRefusal(db.Model):  # type: ignore[name-defined]
    """A bundle the inbox or a file import refused, and why. Holds no personal data: the bundle is not kept."""

    __tablename__ = "handoff_refusals"
    __table_args__ = (Index("ix_handoff_refusals_created_at", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # As the bundle claimed them (unverified), cut short.
    bundle_id: Mapped[str | None] = mapped_column(String(64))
    claimed_sender: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(4))
    code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()


class Open311Key(db.Model):  # type: ignore[name-defined]
    """An API key an admin issued to a civic app: it may POST Open311 service requests."""

    __tablename__ = "open311_keys"
    __table_args__ = (Index("ix_open311_keys_key_hash", "key_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # Only a SHA-256 of the key is stored; the key itself is shown once.
    key_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
