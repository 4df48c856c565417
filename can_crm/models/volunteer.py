"""Volunteer profiles that coordinators manage and the matching engine reads, and what volunteers do."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import DbsLevel, OffersBy, RequestType, VolunteerStatus

PERSONAL = {"personal": True}


class Volunteer(db.Model):  # type: ignore[name-defined]
    __tablename__ = "volunteers"
    __table_args__ = (
        enum_check("dbs_level", DbsLevel),
        enum_check("status", VolunteerStatus),
        enum_check("offers_by", OffersBy),
        CheckConstraint("max_km > 0 AND max_km <= 100", name="max_km_range"),
        CheckConstraint("capacity >= 1 AND capacity <= 20", name="capacity_range"),
        CheckConstraint("max_per_day IS NULL OR (max_per_day >= 1 AND max_per_day <= 20)", name="max_per_day_range"),
        Index("ix_volunteers_h3_fine", "h3_fine"),
        Index("ix_volunteers_updated_at", "updated_at"),
        Index("ix_volunteers_status", "status"),
        Index("ix_volunteers_added_by_organisation", "added_by_organisation", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    name: Mapped[str] = mapped_column(String(120), info=PERSONAL)
    phone: Mapped[str | None] = mapped_column(String(20), info=PERSONAL)
    email: Mapped[str | None] = mapped_column(String(254), info=PERSONAL)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list, info=PERSONAL)
    # Empty until a volunteer made by `create-user` fills in their profile.
    home_postcode: Mapped[str] = mapped_column(String(8), default="", info=PERSONAL)
    lat: Mapped[float | None] = mapped_column(info=PERSONAL)
    lon: Mapped[float | None] = mapped_column(info=PERSONAL)
    h3_fine: Mapped[str | None] = mapped_column(String(16), info=PERSONAL)
    h3_map: Mapped[str | None] = mapped_column(String(16), info={"personal": False})
    max_km: Mapped[float] = mapped_column(default=3.0)
    capacity: Mapped[int] = mapped_column(default=1)  # the most tasks held at once
    max_per_day: Mapped[int | None] = mapped_column()  # the most tasks taken in a day; None: no daily limit
    transport: Mapped[str | None] = mapped_column(String(20))
    # How offers reach them: the app, or a text message to their mobile (answered YES or NO).
    offers_by: Mapped[str] = mapped_column(String(10), default=OffersBy.WEB.value, server_default=OffersBy.WEB.value)
    dbs_level: Mapped[str] = mapped_column(String(10), default=DbsLevel.NONE.value)
    dbs_certificate_date: Mapped[date | None] = mapped_column(Date, info=PERSONAL)
    dbs_certificate_number: Mapped[str | None] = mapped_column(String(20), info=PERSONAL)
    # {"mon": ["morning", "evening"], ...}
    availability: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict, info={"personal": True})
    active: Mapped[bool] = mapped_column(default=True)
    # Vetting: a VolunteerStatus. Nothing is offered to anyone but an `active` volunteer.
    status: Mapped[str] = mapped_column(
        String(12), default=VolunteerStatus.PENDING.value, server_default=VolunteerStatus.PENDING.value
    )
    identity_checked: Mapped[bool] = mapped_column(default=False)
    references_checked: Mapped[bool] = mapped_column(default=False)
    training_done: Mapped[bool] = mapped_column(default=False)
    vetted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    vetted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    vetting_reason: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    paused_until: Mapped[date | None] = mapped_column(Date)
    isolating_until: Mapped[date | None] = mapped_column(Date)
    organisation: Mapped[str | None] = mapped_column(String(120), info={"personal": False})
    # A partner organisation that added this person (its account, and the account's organisation then). The
    # organisation decides which partner accounts see the person; the volunteer's own `organisation` above is
    # free text they may change, so it never grants anyone access.
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_by_organisation: Mapped[str | None] = mapped_column(String(120), info={"personal": False})
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def is_available(self, today: date) -> bool:
        """Whether matching may offer this volunteer work today (vetted, active, not paused, not isolating)."""
        if not self.active or self.status != VolunteerStatus.ACTIVE.value:
            return False
        if self.paused_until is not None and self.paused_until >= today:
            return False
        return not (self.isolating_until is not None and self.isolating_until >= today)


class SelfServiceType(db.Model):  # type: ignore[name-defined]
    """A request type a coordinator opened for self-service: vetted volunteers may claim these from Nearby."""

    __tablename__ = "self_service_types"
    __table_args__ = (enum_check("type", RequestType),)

    type: Mapped[str] = mapped_column(String(20), primary_key=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = created_at_column()


class VolunteerProgress(db.Model):  # type: ignore[name-defined]
    """One progress update a volunteer sent, by its idempotency key: the same key again gets the first answer.

    The `on_my_way` row also times the visit for lone working (`alerted_at` once the coordinators were told).
    """

    __tablename__ = "volunteer_progress"
    __table_args__ = (
        UniqueConstraint("volunteer_id", "idempotency_key", name="uq_volunteer_progress_key"),
        Index("ix_volunteer_progress_visits", "step", "alerted_at", "created_at"),
        Index("ix_volunteer_progress_request", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(64), info={"personal": False})
    step: Mapped[str] = mapped_column(String(20))
    # The answer given the first time (status after the step, message), replayed for a repeated key.
    response: Mapped[dict[str, object] | None] = mapped_column(JSON, info={"personal": True})
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class VolunteerHours(db.Model):  # type: ignore[name-defined]
    """Hours a volunteer logged (their own record, for references and the council's reports)."""

    __tablename__ = "volunteer_hours"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_range"),
        Index("ix_volunteer_hours_volunteer", "volunteer_id", "worked_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    worked_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]
    created_at: Mapped[datetime] = created_at_column()
