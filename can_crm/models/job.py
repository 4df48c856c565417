"""The job outbox: every background job is a row first, so a lost Redis loses no work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column
from can_crm.models.enums import JobState


class Job(db.Model):  # type: ignore[name-defined]
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), info={"personal": False})
    # Ids only, never personal data: this is what Redis carries.
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info={"personal": False})
    state: Mapped[str] = mapped_column(String(12), default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    progress: Mapped[int] = mapped_column(default=0)
    progress_message: Mapped[str | None] = mapped_column(String(200), info={"personal": True})
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, info={"personal": True})
    error: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
