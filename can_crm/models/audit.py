"""Who saw or changed what: the access log for special-category data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import created_at_column


class AuditEntry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_resident_id", "resident_id", "id"),
        Index("ix_audit_log_actor_created", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), info={"personal": False})
    object_type: Mapped[str] = mapped_column(String(30), info={"personal": False})
    object_id: Mapped[int]
    # The resident the entry concerns, when there is one: subject access lists who looked at them.
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), info={"personal": False}
    )
    # The actor's role at the time, so a review still reads right after a role change.
    actor_role: Mapped[str | None] = mapped_column(String(20), info={"personal": False})
    # How many records a read returned (searches, exports); never the search terms themselves.
    records: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at_column()
