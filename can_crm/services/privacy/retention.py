"""Retention schedules per record type: warn coordinators `RETENTION_WARN_DAYS` before, then anonymise or
purge, and keep a report (counts only) of every run.

Record types and what happens when one is due (days from `RETENTION_DAYS`, see config):
- closed_requests: a resident whose requests are all finished, the last more than N days ago, is erased
  with the erasure rules (anonymised, counts kept); an open safeguarding concern blocks it (counted).
- volunteer_records: a volunteer inactive for N days is anonymised.
- messages: rows of every table that declares `info={"retention": "messages"}` (and a created_at column)
  older than N days are deleted; the notifications domain opts its tables in this way.
- audit: audit lines older than N days are deleted.
- jobs: finished job rows older than N days are deleted (their results may carry names).
- saved_searches: search terms kept server-side are deleted after N days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from can_crm.extensions import db
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.models.enums import FINISHED_JOB_STATES, OPEN_STATUSES
from can_crm.models.job import Job
from can_crm.models.privacy import RetentionNotice, RetentionRun, SavedSearch
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.privacy import catalogue, erasure

ADVISORY_LOCK = 0x0CA11E7E  # any fixed number unique to this task

DEFAULT_DAYS = {
    "closed_requests": 365,
    "volunteer_records": 730,
    "messages": 180,
    "audit": 2190,
    "jobs": 90,
    "saved_searches": 1,
}


def schedule() -> dict[str, int]:
    return {**DEFAULT_DAYS, **(current_app.config.get("RETENTION_DAYS") or {})}


def _warn(record_type: str, ids_due: list[tuple[int, datetime]], dry_run: bool) -> int:
    """One notice per record coming due (coordinators see them on the retention page)."""
    if not ids_due:
        return 0
    known = set(
        db.session.scalars(
            select(RetentionNotice.record_id).where(
                RetentionNotice.record_type == record_type,
                RetentionNotice.record_id.in_([i for i, _ in ids_due]),
            )
        )
    )
    fresh = [(i, due) for i, due in ids_due if i not in known]
    if not dry_run:
        for record_id, due in fresh:
            db.session.add(RetentionNotice(record_type=record_type, record_id=record_id, due_at=due))
    return len(fresh)


def _residents_last_closed() -> Any:
    """(resident id, when their last request finished) for residents with no open request, not yet erased."""
    open_ids = select(HelpRequest.resident_id).where(HelpRequest.status.in_(values_of_open()))
    return (
        select(HelpRequest.resident_id, func.max(func.coalesce(HelpRequest.closed_at, HelpRequest.updated_at)))
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .where(Resident.erased_at.is_(None), HelpRequest.resident_id.not_in(open_ids))
        .group_by(HelpRequest.resident_id)
    )


def values_of_open() -> list[str]:
    return [s.value for s in OPEN_STATUSES]


def _closed_requests(days: int, warn_days: int, now: datetime, dry_run: bool) -> dict[str, Any]:
    cutoff = now - timedelta(days=days)
    rows = db.session.execute(_residents_last_closed()).all()
    due = [rid for rid, last in rows if last is not None and last <= cutoff]
    soon = [
        (rid, last + timedelta(days=days))
        for rid, last in rows
        if last and cutoff < last <= cutoff + timedelta(days=warn_days)
    ]
    done = blocked = 0
    for resident_id in due:
        if erasure.blockers(resident_id):
            blocked += 1
            continue
        if not dry_run:
            erasure.erase(resident_id, f"Retention schedule: closed requests after {days} days", None, "system")
        done += 1
    return {"due": len(due), "warned": _warn("resident", soon, dry_run), "anonymised": done, "blocked": blocked}


def _volunteer_records(days: int, warn_days: int, now: datetime, dry_run: bool) -> dict[str, Any]:
    cutoff = now - timedelta(days=days)
    inactive = select(Volunteer.id, Volunteer.updated_at).where(
        Volunteer.active.is_(False), Volunteer.name != erasure.ERASED
    )
    rows = db.session.execute(inactive).all()
    due = [vid for vid, updated in rows if updated <= cutoff]
    soon = [(vid, u + timedelta(days=days)) for vid, u in rows if cutoff < u <= cutoff + timedelta(days=warn_days)]
    if due and not dry_run:
        tbl = catalogue.table("volunteers")
        blanks = {c.name: erasure.blank_value(c) for c in catalogue.personal_columns(tbl)}
        db.session.execute(update(tbl).where(tbl.c.id.in_(due)).values(**blanks))
    return {"due": len(due), "warned": _warn("volunteer", soon, dry_run), "anonymised": len(due)}


def _purge(model_table: Any, created: Any, cutoff: datetime, dry_run: bool, *extra: Any) -> int:
    condition = [created < cutoff, *extra]
    count = int(db.session.scalar(select(func.count()).select_from(model_table).where(*condition)) or 0)
    if count and not dry_run:
        db.session.execute(delete(model_table).where(*condition))
    return count


def _messages(days: int, now: datetime, dry_run: bool) -> dict[str, Any]:
    purged = 0
    tables = [t for t in catalogue.tables() if t.info.get("retention") == "messages" and "created_at" in t.c]
    for tbl in tables:
        purged += _purge(tbl, tbl.c.created_at, now - timedelta(days=days), dry_run)
    return {"tables": sorted(t.name for t in tables), "purged": purged}


def run(dry_run: bool = False, now: datetime | None = None) -> list[dict[str, Any]]:
    """Apply every schedule once; returns one line per record type and keeps the report (unless dry)."""
    now = now or utcnow()
    days = schedule()
    warn_days = int(current_app.config.get("RETENTION_WARN_DAYS", 14))
    results: dict[str, dict[str, Any]] = {
        "closed_requests": _closed_requests(days["closed_requests"], warn_days, now, dry_run),
        "volunteer_records": _volunteer_records(days["volunteer_records"], warn_days, now, dry_run),
        "messages": _messages(days["messages"], now, dry_run),
        "audit": {
            "purged": _purge(AuditEntry.__table__, AuditEntry.created_at, now - timedelta(days=days["audit"]), dry_run)
        },
        "jobs": {
            "purged": _purge(
                Job.__table__,
                Job.created_at,
                now - timedelta(days=days["jobs"]),
                dry_run,
                Job.state.in_(values_finished()),
            )
        },
        "saved_searches": {
            "purged": _purge(
                SavedSearch.__table__, SavedSearch.created_at, now - timedelta(days=days["saved_searches"]), dry_run
            )
        },
    }
    lines = [
        {"record_type": name, "days": days[name], "dry_run": dry_run, **result} for name, result in results.items()
    ]
    if not dry_run:
        db.session.add(RetentionRun(dry_run=False, report=lines, started_at=now, finished_at=utcnow()))
        db.session.flush()
    return lines


def values_finished() -> list[str]:
    return values_of(FINISHED_JOB_STATES)


def values_of(states: frozenset[Any]) -> list[str]:
    return sorted(s.value for s in states)


def notices() -> list[RetentionNotice]:
    return list(db.session.scalars(select(RetentionNotice).order_by(RetentionNotice.due_at).limit(500)))


def recent_runs(limit: int = 20) -> list[RetentionRun]:
    return list(db.session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)))


def daily() -> None:
    """The periodic task: once a day (the first sweep after midnight UTC passes a day since the last run)."""
    # Every app process runs the periodic tasks: only the one holding this lock does the daily pass.
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres and not db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}):
        return
    last = db.session.scalar(select(func.max(RetentionRun.started_at)))
    if last is not None and utcnow() - last < timedelta(days=1):
        return
    run()
