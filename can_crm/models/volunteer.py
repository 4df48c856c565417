"""Volunteer profiles that coordinators manage and the matching engine reads."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import DbsLevel


class Volunteer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "volunteers"
    __table_args__ = (
        enum_check("dbs_level", DbsLevel),
        CheckConstraint("max_km > 0 AND max_km <= 100", name="max_km_range"),
        CheckConstraint("capacity >= 1 AND capacity <= 20", name="capacity_range"),
        Index("ix_volunteers_h3_fine", "h3_fine"),
        Index("ix_volunteers_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    name: Mapped[str] = mapped_column(String(120), info={"personal": True})
    phone: Mapped[str | None] = mapped_column(String(20), info={"personal": True})
    email: Mapped[str | None] = mapped_column(String(254), info={"personal": True})
    skills: Mapped[list[str]] = mapped_column(JSON, default=list, info={"personal": True})
    home_postcode: Mapped[str] = mapped_column(String(8), info={"personal": True})
    lat: Mapped[float | None] = mapped_column(info={"personal": True})
    lon: Mapped[float | None] = mapped_column(info={"personal": True})
    h3_fine: Mapped[str | None] = mapped_column(String(16), info={"personal": True})
    h3_map: Mapped[str | None] = mapped_column(String(16), info={"personal": False})
    max_km: Mapped[float] = mapped_column(default=3.0)
    capacity: Mapped[int] = mapped_column(default=1)
    dbs_level: Mapped[str] = mapped_column(String(10), default=DbsLevel.NONE.value)
    dbs_certificate_date: Mapped[date | None] = mapped_column(Date, info={"personal": True})
    # {"mon": ["morning", "evening"], ...}
    availability: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict, info={"personal": True})
    active: Mapped[bool] = mapped_column(default=True)
    paused_until: Mapped[date | None] = mapped_column(Date)
    isolating_until: Mapped[date | None] = mapped_column(Date)
    organisation: Mapped[str | None] = mapped_column(String(120), info={"personal": False})
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def is_available(self, today: date) -> bool:
        """Whether matching may offer this volunteer work today (active, not paused, not isolating)."""
        if not self.active:
            return False
        if self.paused_until is not None and self.paused_until >= today:
            return False
        return not (self.isolating_until is not None and self.isolating_until >= today)
