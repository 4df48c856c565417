"""The access log for special-category data: who saw or changed which resident, request or concern."""

from __future__ import annotations

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.models.user import User


def record(
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: int,
    *,
    resident_id: int | None = None,
    role: str | None = None,
    records: int = 1,
) -> AuditEntry:
    """Append one audit line. It is written in the same transaction as the work it describes.

    `resident_id` names the resident concerned (subject access lists who looked at them); a read of a
    resident record sets it from `object_id` when the caller did not."""
    if resident_id is None and object_type == "resident":
        resident_id = object_id
    if role is None and actor_id is not None:
        # The signed-in user is already in the session's identity map: no query.
        actor = db.session.get(User, actor_id)
        role = actor.role if actor is not None else None
    entry = AuditEntry(
        actor_id=actor_id,
        action=action[:40],
        object_type=object_type[:30],
        object_id=object_id,
        resident_id=resident_id,
        actor_role=(role or None) and role[:20],
        records=records,
        created_at=utcnow(),
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
