"""Food-parcel delivery rounds: a coordinator's plan for a day, one round per volunteer with a car, and the stops.

The engine (`matching.rounds`) proposes the plan; it stays a draft the coordinator can edit until a person
approves it. Approval offers each stop's request to its round's volunteer through the request state machine.
Times are whole minutes from the start of the plan's day (09:30 is 570), as the engine counts them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, utcnow
from can_crm.models.request import HelpRequest
from can_crm.models.volunteer import Volunteer

PLAN_STATES = ("planning", "draft", "approved", "discarded", "failed")
NOT_PERSONAL = {"personal": False}


class RoundPlan(db.Model):  # type: ignore[name-defined]
    """One planning of a day's rounds from one food hub, with the settings it was planned under."""

    __tablename__ = "round_plans"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in PLAN_STATES) + ")",
            name="state_valid",
        ),
        CheckConstraint("window_start_min >= 0 AND window_start_min <= window_end_min", name="window_order"),
        Index("ix_round_plans_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="planning", info=NOT_PERSONAL)
    # The hub as configured when planned (FOOD_HUBS): a public building, not a person's address.
    hub_name: Mapped[str] = mapped_column(String(80), info=NOT_PERSONAL)
    hub_lat: Mapped[float]
    hub_lon: Mapped[float]
    # When parcels may be delivered (every stop's window), and the engine's settings.
    window_start_min: Mapped[int]
    window_end_min: Mapped[int]
    service_min: Mapped[int]
    speed_kmh: Mapped[float]
    road_factor: Mapped[float]
    time_limit_s: Mapped[int]
    total_km: Mapped[float] = mapped_column(default=0.0)
    served_by_urgency: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, info=NOT_PERSONAL)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    rounds: Mapped[list[DeliveryRound]] = relationship(
        back_populates="plan", order_by="DeliveryRound.position", lazy="raise", cascade="all, delete-orphan"
    )


class DeliveryRound(db.Model):  # type: ignore[name-defined]
    """One volunteer's round: their car's capacity in parcels and their shift, from the hub and back."""

    __tablename__ = "delivery_rounds"
    __table_args__ = (
        UniqueConstraint("plan_id", "volunteer_id", name="uq_delivery_rounds_plan_volunteer"),
        CheckConstraint("capacity >= 1 AND capacity <= 500", name="capacity_range"),
        CheckConstraint("shift_start_min >= 0 AND shift_start_min < shift_end_min", name="shift_order"),
        Index("ix_delivery_rounds_volunteer", "volunteer_id", "plan_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("round_plans.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    capacity: Mapped[int]
    shift_start_min: Mapped[int]
    shift_end_min: Mapped[int]
    # Re-timed after every edit: the round's km and when it is back at the hub.
    km: Mapped[float] = mapped_column(default=0.0)
    end_min: Mapped[float | None]

    plan: Mapped[RoundPlan] = relationship(back_populates="rounds")
    volunteer: Mapped[Volunteer | None] = relationship(lazy="raise")


class RoundStop(db.Model):  # type: ignore[name-defined]
    """A request of the plan: on a round (with its place and arrival time) or left out, with the reason."""

    __tablename__ = "round_stops"
    __table_args__ = (
        UniqueConstraint("plan_id", "request_id", name="uq_round_stops_plan_request"),
        CheckConstraint("parcels >= 0", name="parcels_positive"),
        Index("ix_round_stops_round", "round_id", "position"),
        Index("ix_round_stops_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("round_plans.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_rounds.id", ondelete="SET NULL"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    position: Mapped[int | None]
    parcels: Mapped[int] = mapped_column(default=1)
    urgency: Mapped[int] = mapped_column(default=1)
    window_start_min: Mapped[int]
    window_end_min: Mapped[int]
    arrival_min: Mapped[float | None]
    # Why it is on no round: the engine's reason, location_unknown, or removed_by_coordinator.
    unserved_reason: Mapped[str | None] = mapped_column(String(40), info=NOT_PERSONAL)

    request: Mapped[HelpRequest] = relationship(lazy="raise")
