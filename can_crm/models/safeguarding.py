"""Safeguarding concerns: visible to coordinators only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column


class SafeguardingConcern(db.Model):  # type: ignore[name-defined]
    __tablename__ = "safeguarding_concerns"
    __table_args__ = (Index("ix_safeguarding_concerns_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[str] = mapped_column(Text, info={"personal": True})
    status: Mapped[str] = mapped_column(String(12), default="open", info={"personal": False})
    outcome: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    created_at: Mapped[datetime] = created_at_column()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
