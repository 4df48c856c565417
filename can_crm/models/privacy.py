"""Data-protection records: consent per purpose, Art. 22 review tasks, retention runs and notices,
and server-side saved searches (so search terms never travel in a URL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check
from can_crm.models.enums import LawfulBasis


class Consent(db.Model):  # type: ignore[name-defined]
    """The lawful basis for one purpose of processing one resident's data, with when and how it was given."""

    __tablename__ = "consents"
    __table_args__ = (enum_check("lawful_basis", LawfulBasis), Index("ix_consents_resident_id", "resident_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40), info={"personal": False})
    lawful_basis: Mapped[str] = mapped_column(String(20), info={"personal": False})
    given: Mapped[bool] = mapped_column(default=True)
    # Where the consent came from: "web form", "phone call with coordinator #3", "partner referral".
    source: Mapped[str] = mapped_column(String(120), info={"personal": True})
    recorded_at: Mapped[datetime] = created_at_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewTask(db.Model):  # type: ignore[name-defined]
    """A resident's request for a person to review an automated decision (UK GDPR Art. 22)."""

    __tablename__ = "review_tasks"
    __table_args__ = (Index("ix_review_tasks_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    # The decision under review, e.g. "matching proposal #12".
    decision: Mapped[str] = mapped_column(String(120), info={"personal": False})
    grounds: Mapped[str] = mapped_column(Text, default="", info={"personal": True})
    status: Mapped[str] = mapped_column(String(12), default="open", info={"personal": False})
    outcome: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    created_at: Mapped[datetime] = created_at_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RetentionRun(db.Model):  # type: ignore[name-defined]
    """What one retention pass did (or would do, on a dry run), per record type: counts only."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, info={"personal": False})
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RetentionNotice(db.Model):  # type: ignore[name-defined]
    """A record that will be anonymised or purged soon; coordinators were warned once, on `warned_at`."""

    __tablename__ = "retention_notices"
    __table_args__ = (Index("ix_retention_notices_record", "record_type", "record_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(30), info={"personal": False})
    record_id: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    warned_at: Mapped[datetime] = created_at_column()


class SavedSearch(db.Model):  # type: ignore[name-defined]
    """Search terms held server-side: the URL carries this row's random key, never a name or postcode."""

    __tablename__ = "saved_searches"
    __table_args__ = (Index("ix_saved_searches_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(32), primary_key=True, info={"personal": False})
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(20), info={"personal": False})
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info={"personal": True})
    created_at: Mapped[datetime] = created_at_column()
