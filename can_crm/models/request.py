"""Requests for help and their append-only event history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import (
    BUSY_STATUSES,
    OPEN_STATUSES,
    Channel,
    DbsLevel,
    DeliveryWindow,
    Recurrence,
    RequestType,
    Status,
)
from can_crm.models.resident import Resident
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer

# The unassigned triaged requests: the pool volunteers claim from "Nearby" (migration 0006).
_POOL_SQL = "status = 'triaged' AND volunteer_id IS NULL"
# The most parcels one food-parcel request may ask for (a car takes at most 500; a household rarely needs 5).
MAX_PARCELS = 20
_OPEN_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in Status if s in OPEN_STATUSES) + ")"
_BUSY_SQL = "status IN (" + ", ".join(f"'{s}'" for s in BUSY_STATUSES) + ")"


class HelpRequest(db.Model):  # type: ignore[name-defined]
    __tablename__ = "requests"
    __table_args__ = (
        enum_check("status", Status),
        enum_check("type", RequestType),
        enum_check("channel", Channel),
        enum_check("recurrence", Recurrence),
        enum_check("min_dbs", DbsLevel),
        CheckConstraint("urgency BETWEEN 1 AND 3", name="urgency_range"),
        # Food parcels only (migration 0015): how many, and when the resident can take delivery.
        CheckConstraint(f"parcels IS NULL OR parcels BETWEEN 1 AND {MAX_PARCELS}", name="parcels_range"),
        enum_check("delivery_window", DeliveryWindow),
        CheckConstraint(
            "(delivery_window = 'between') = (delivery_from_min IS NOT NULL AND delivery_to_min IS NOT NULL)"
            " AND (delivery_from_min IS NULL OR delivery_to_min IS NULL"
            " OR (delivery_from_min >= 0 AND delivery_from_min < delivery_to_min AND delivery_to_min <= 1440))",
            name="delivery_between",
        ),
        Index("ix_requests_status_sla", "status", "sla_due_at"),
        Index("ix_requests_created_at", "created_at"),
        Index("ix_requests_updated_at", "updated_at"),
        Index("ix_requests_resident_id", "resident_id"),
        Index("ix_requests_volunteer_id", "volunteer_id"),
        # The queue's order over every request, and its usual filters (migration 0011).
        Index("ix_requests_queue_order", text("urgency DESC"), "sla_due_at", "id"),
        Index("ix_requests_status_type_urgency", "status", "type", "urgency"),
        # A status (and a type) filter walked in the queue's order, not sorted (migration 0022).
        Index("ix_requests_status_order", "status", text("urgency DESC"), "sla_due_at", "id"),
        Index("ix_requests_status_type_order", "status", "type", text("urgency DESC"), "sla_due_at", "id"),
        Index("ix_requests_raised_by_id", "raised_by_id"),
        # The queue's own order over open requests only (migration 0003).
        Index(
            "ix_requests_queue_open",
            text("urgency DESC"),
            "sla_due_at",
            "id",
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        Index(
            "ix_requests_unassigned_pool",
            "type",
            "resident_id",
            postgresql_where=text(_POOL_SQL),
            sqlite_where=text(_POOL_SQL),
        ),
        # What each volunteer holds now (their limits, read on every offer, Nearby and the request page's
        # drop-down): a few rows per volunteer, not every busy request of the status index (migration 0019).
        Index(
            "ix_requests_busy_volunteer",
            "volunteer_id",
            "status",
            postgresql_where=text(_BUSY_SQL),
            sqlite_where=text(_BUSY_SQL),
        ),
        # Nearby on SQLite reaches the pool by the volunteer's H3 cells: an index range per cell (migration 0014).
        # PostgreSQL walks ix_requests_pool_place instead (migration 0023: a GiST expression index, not declared
        # here, like ix_volunteers_place), and has no cell index (migration 0024).
        Index("ix_requests_pool_cell", "h3_map", "type", sqlite_where=text(_POOL_SQL)).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(13), unique=True, info={"personal": False})
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(20), info={"personal": False})
    # A copy of the resident's location (residents.h3_map, lat, lon, each declared alike), so Nearby finds the
    # nearest of the pool (by place, or by cell on SQLite) without reading every resident.
    # Written only by services/residents/request_location.follow (migration 0014).
    h3_map: Mapped[str | None] = mapped_column(String(16), info={"personal": False})
    lat: Mapped[float | None] = mapped_column(info={"personal": True})
    lon: Mapped[float | None] = mapped_column(info={"personal": True})
    urgency: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=Status.NEW.value, info={"personal": False})
    details: Mapped[str] = mapped_column(Text, default="", info={"personal": True})
    volunteer_notes: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    coordinator_notes: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list, info={"personal": False})
    min_dbs: Mapped[str] = mapped_column(String(10), default=DbsLevel.NONE.value, info={"personal": False})
    due_by: Mapped[date | None] = mapped_column(Date)
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recurrence: Mapped[str] = mapped_column(String(12), default=Recurrence.NONE.value, info={"personal": False})
    # The occurrence this one was generated from, so a recurrence is generated once only.
    previous_occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(12), default=Channel.WEB.value, info={"personal": False})
    # Food parcels only (NULL for other types): how many parcels, and when the resident can take delivery. The
    # window says when someone is at home, so it is personal; the hours of a named window come from
    # DELIVERY_WINDOWS, `between` gives its own (minutes from midnight).
    parcels: Mapped[int | None] = mapped_column(info={"personal": False})
    delivery_window: Mapped[str | None] = mapped_column(String(10), info={"personal": True})
    delivery_from_min: Mapped[int | None] = mapped_column(info={"personal": True})
    delivery_to_min: Mapped[int | None] = mapped_column(info={"personal": True})
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic lock: two coordinators acting on one request cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    resident: Mapped[Resident] = relationship(lazy="raise")
    volunteer: Mapped[Volunteer | None] = relationship(lazy="raise")
    raised_by: Mapped[User | None] = relationship(lazy="raise")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", lazy="raise", cascade="all, delete-orphan"
    )

    def is_overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.sla_due_at < now


class RequestEvent(db.Model):  # type: ignore[name-defined]
    """One line of a request's history. Rows are only ever inserted (a trigger enforces it on PostgreSQL)."""

    __tablename__ = "request_events"
    __table_args__ = (
        Index("ix_request_events_request_id", "request_id", "id"),
        Index("ix_request_events_volunteer_id", "volunteer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), info={"personal": False})  # an EventKind
    from_status: Mapped[str | None] = mapped_column(String(20), info={"personal": False})
    to_status: Mapped[str | None] = mapped_column(String(20), info={"personal": False})
    reason: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who acted when there is no user: "resident", "system", or the user's role at the time.
    actor_role: Mapped[str] = mapped_column(String(20), info={"personal": False})
    # The volunteer this event concerns (offered to, declined by, delivering), whoever acted.
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

    request: Mapped[HelpRequest] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="raise")
