"""Outreach to the shielded list: imports of the council's CSV, campaigns and the people they contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import CampaignChannel


class ShieldedImport(db.Model):  # type: ignore[name-defined]
    """One upload of the shielded list. The file waits here (not in the job's arguments) for its job."""

    __tablename__ = "shielded_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, info={"personal": True})
    mapping: Mapped[dict[str, str] | None] = mapped_column(JSON)
    file_sha256: Mapped[str] = mapped_column(String(64))
    dry_run: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued, done, refused
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    # Row-level errors as a CSV (row number, column, message, value made safe against formula injection).
    error_csv: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Campaign(db.Model):  # type: ignore[name-defined]
    __tablename__ = "campaigns"
    __table_args__ = (enum_check("channel", CampaignChannel),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10))
    # Who: shielded residents, optionally only those in one ward.
    ward_code: Mapped[str | None] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class CampaignContact(db.Model):  # type: ignore[name-defined]
    """One resident in one campaign: whether we reached them and what they said."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "resident_id", name="uq_campaign_contacts_resident"),
        Index("ix_campaign_contacts_outcome", "campaign_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))  # a ContactOutcome
    attempts: Mapped[int] = mapped_column(default=0)
    provider_call_id: Mapped[str | None] = mapped_column(String(64), info={"personal": False})
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
