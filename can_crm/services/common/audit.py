"""The access log for special-category data: who saw or changed which resident, request or concern."""

from __future__ import annotations

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow


def record(actor_id: int | None, action: str, object_type: str, object_id: int) -> AuditEntry:
    """Append one audit line. It is written in the same transaction as the work it describes."""
    entry = AuditEntry(
        actor_id=actor_id, action=action[:40], object_type=object_type[:30], object_id=object_id, created_at=utcnow()
    )
    db.session.add(entry)
    return entry


def entries_for(object_type: str, object_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
            .order_by(AuditEntry.id)
        )
    )
