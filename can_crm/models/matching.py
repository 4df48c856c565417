"""Matching runs, their proposals and the coordinator's decision on each (UK GDPR Article 22:
the engine proposes, a person decides, and both are recorded)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column
from can_crm.models.request import HelpRequest
from can_crm.models.volunteer import Volunteer

RUN_STATES = ("running", "proposed", "failed")
DECISIONS = ("pending", "approved", "rejected", "overridden", "superseded")


class MatchingRun(db.Model):  # type: ignore[name-defined]
    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    automatic: Mapped[bool] = mapped_column(default=False)
    # Request types this run considered; empty means every type.
    request_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="running")
    requests_considered: Mapped[int] = mapped_column(default=0)
    volunteers_considered: Mapped[int] = mapped_column(default=0)
    served_by_urgency: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    total_km: Mapped[float] = mapped_column(default=0.0)
    optimal: Mapped[bool] = mapped_column(default=False)
    # When the time limit ran out before the proof: the proven bound ({"served_by_urgency": {"3": n, ...},
    # "km_lower_bound": km}), so the coordinator sees how far the answer may be from the best.
    bound: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposals: Mapped[list[MatchProposal]] = relationship(
        back_populates="run", order_by="MatchProposal.id", lazy="raise", cascade="all, delete-orphan"
    )


class MatchProposal(db.Model):  # type: ignore[name-defined]
    """One request in a run: a proposed volunteer with the engine's explanation, or why none."""

    __tablename__ = "match_proposals"
    __table_args__ = (
        Index("ix_match_proposals_run_id", "run_id", "id"),
        Index("ix_match_proposals_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("matching_runs.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    km: Mapped[float | None]
    explanation: Mapped[str] = mapped_column(Text, default="", info={"personal": True})
    unmatched_reason: Mapped[str | None] = mapped_column(String(40), info={"personal": False})
    decision: Mapped[str] = mapped_column(String(12), default="pending", info={"personal": False})
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the coordinator chose someone else, who, and why.
    override_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(Text, info={"personal": True})

    run: Mapped[MatchingRun] = relationship(back_populates="proposals")
    request: Mapped[HelpRequest] = relationship(lazy="raise")
    volunteer: Mapped[Volunteer | None] = relationship(foreign_keys=[volunteer_id], lazy="raise")
    override_volunteer: Mapped[Volunteer | None] = relationship(foreign_keys=[override_volunteer_id], lazy="raise")


class MatchingSetting(db.Model):  # type: ignore[name-defined]
    """Per request type: run matching on a schedule, and (only if an admin allows it) auto-approve."""

    __tablename__ = "matching_settings"

    request_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    auto_run: Mapped[bool] = mapped_column(default=False)
    auto_approve: Mapped[bool] = mapped_column(default=False)
    interval_minutes: Mapped[int] = mapped_column(default=60)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
