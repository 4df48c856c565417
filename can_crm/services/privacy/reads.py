"""Audit of reads: every view of a resident's record, every export and every search that returns personal
data is a line in the audit log (who, what, when, role, how many records). Admins review the log; a user who
reads an unusual number of records in a short time is flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from can_crm.extensions import db
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.models.user import User
from can_crm.services.common import audit

READ_ACTIONS = ("view_resident", "search", "subject_access", "export", "list_residents")


def record_view(user: User, resident_id: int) -> None:
    audit.record(user.id, "view_resident", "resident", resident_id, role=user.role)


def record_search(user: User, where: str, results: int) -> None:
    """A search: never the terms (they are personal), only where and how many records came back."""
    audit.record(user.id, "search", where[:30], 0, role=user.role, records=results)


@dataclass(frozen=True)
class Flag:
    user_id: int
    email: str
    role: str
    records: int
    since: datetime


def flagged(now: datetime | None = None) -> list[Flag]:
    """Users whose reads in the last READ_ALERT_MINUTES returned more than READ_ALERT_RECORDS records."""
    now = now or utcnow()
    since = now - timedelta(minutes=int(current_app.config["READ_ALERT_MINUTES"]))
    limit = int(current_app.config["READ_ALERT_RECORDS"])
    total = func.sum(AuditEntry.records)
    rows = db.session.execute(
        select(AuditEntry.actor_id, User.email, User.role, total)
        .join(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.created_at >= since, AuditEntry.action.in_(READ_ACTIONS))
        .group_by(AuditEntry.actor_id, User.email, User.role)
        .having(total > limit)
        .order_by(total.desc())
    ).all()
    return [Flag(uid, email, role, int(n), since) for uid, email, role, n in rows]


def entries(resident_id: int | None = None, actor_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if resident_id is not None:
        query = query.where(AuditEntry.resident_id == resident_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return list(db.session.scalars(query))
