"""Residents who ask for help: special-category data (health, home address)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow
from can_crm.models.enums import ContactChannel, LawfulBasis


class Resident(db.Model):  # type: ignore[name-defined]
    __tablename__ = "residents"
    __table_args__ = (
        enum_check("preferred_channel", ContactChannel),
        enum_check("lawful_basis", LawfulBasis),
        Index("ix_residents_postcode", "postcode"),
        Index("ix_residents_ward_code", "ward_code"),
        Index("ix_residents_h3_fine", "h3_fine"),
        Index("ix_residents_h3_map", "h3_map"),
        Index("ix_residents_updated_at", "updated_at"),
        Index("ix_residents_nhs_number", "nhs_number"),
        Index("ix_residents_name_dob_postcode", "name", "date_of_birth", "postcode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), info={"personal": True})
    address_line1: Mapped[str] = mapped_column(String(120), info={"personal": True})
    address_line2: Mapped[str | None] = mapped_column(String(120), info={"personal": True})
    town: Mapped[str | None] = mapped_column(String(60), info={"personal": True})
    postcode: Mapped[str] = mapped_column(String(8), info={"personal": True})
    lat: Mapped[float | None] = mapped_column(info={"personal": True})
    lon: Mapped[float | None] = mapped_column(info={"personal": True})
    # A LocationSource; NULL: the postcode is real but the installed directory does not list it yet.
    location_source: Mapped[str | None] = mapped_column(String(16), info={"personal": False})
    h3_fine: Mapped[str | None] = mapped_column(String(16), info={"personal": True})
    h3_map: Mapped[str | None] = mapped_column(String(16), info={"personal": False})
    ward_code: Mapped[str | None] = mapped_column(String(12), info={"personal": False})
    # GSS code of the authority whose boundary contains the address, when known.
    authority_code: Mapped[str | None] = mapped_column(String(12), info={"personal": False})
    phone: Mapped[str | None] = mapped_column(String(20), info={"personal": True})
    email: Mapped[str | None] = mapped_column(String(254), info={"personal": True})
    preferred_channel: Mapped[str] = mapped_column(
        String(10), default=ContactChannel.PHONE.value, info={"personal": False}
    )
    language: Mapped[str] = mapped_column(String(40), default="English", info={"personal": True})
    # The language every message to this resident is written in (a LOCALES code), chosen on the form.
    locale: Mapped[str] = mapped_column(String(5), default="en", info={"personal": False})
    notifications_opt_out: Mapped[bool] = mapped_column(default=False, info={"personal": False})
    mobile: Mapped[str | None] = mapped_column(String(20), info={"personal": True})
    date_of_birth: Mapped[date | None] = mapped_column(Date, info={"personal": True})
    accessibility_needs: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    shielding: Mapped[bool] = mapped_column(default=False, info={"personal": True})
    vulnerabilities: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    nhs_number: Mapped[str | None] = mapped_column(String(10), info={"personal": True})
    consent_given: Mapped[bool] = mapped_column(default=False, info={"personal": False})
    lawful_basis: Mapped[str] = mapped_column(
        String(20), default=LawfulBasis.PUBLIC_TASK.value, info={"personal": False}
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Set when the record was anonymised on request (UK GDPR Art. 17) or by the retention schedule.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def location_known(self) -> bool:
        return self.lat is not None and self.lon is not None
