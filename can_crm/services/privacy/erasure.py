"""Erasure (UK GDPR Art. 17) by anonymisation rules that cascade through every table about the resident.

Rules, read from the metadata: in every row the walk in `catalogue` finds, a column marked personal is
blanked (NULL when it may be, otherwise "[erased]", an empty list/dict, False or 0). Rows are kept, so the
history survives as anonymous counts (requests by type, status and ward). Then every text or JSON column of
every table is searched for the values just removed (the name, phone, email, address, free text) and they
are cut out wherever they were copied: job rows, message bodies, saved searches, audit, event history.
The append-only history is rewritten through its one sanctioned path (`can.redaction`, see migration 0009),
and the redaction is audited. Cached heat maps are deleted. Afterwards `vacuum()` (PostgreSQL) or
`secure_delete` (SQLite, set on every connection) keeps the old values out of free pages.

Exceptions, where the council must keep the record: an open safeguarding concern blocks erasure.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import JSON, Boolean, Integer, Numeric, String, Text, cast, func, or_, select, text, update
from sqlalchemy import Float as SqlFloat

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import TERMINAL_STATUSES, Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.services.common import audit
from can_crm.services.common.errors import DomainError, NotFound
from can_crm.services.privacy import catalogue
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor
from can_crm.services.residents import request_location
from can_crm.unit_of_work import atomic

ERASED = "[erased]"
# Values shorter than this are not hunted for elsewhere (a "12" would match every id in every JSON blob).
MIN_SCRUB_LENGTH = 4
APPEND_ONLY_TABLES = frozenset({"request_events"})


class ErasureBlocked(DomainError):
    http_status = 409
    code = "erasure_blocked"


@dataclass
class ErasureReport:
    resident_id: int
    anonymised: dict[str, int] = field(default_factory=dict)
    scrubbed: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    cancelled_requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "resident_id": self.resident_id,
            "anonymised": self.anonymised,
            "scrubbed": self.scrubbed,
            "kept": self.kept,
            "cancelled_requests": self.cancelled_requests,
            "cached_maps": "deleted after commit",
            "free_pages": "VACUUM of the touched tables after commit (PostgreSQL); secure_delete (SQLite)",
        }

    def touched_tables(self) -> list[str]:
        return sorted(set(self.anonymised) | set(self.scrubbed))


def blockers(resident_id: int) -> list[str]:
    """Why the council must keep this resident's record as it is, if it must."""
    request_ids = select(HelpRequest.id).where(HelpRequest.resident_id == resident_id)
    open_concerns = db.session.scalar(
        select(func.count(SafeguardingConcern.id)).where(
            SafeguardingConcern.status == "open",
            or_(SafeguardingConcern.resident_id == resident_id, SafeguardingConcern.request_id.in_(request_ids)),
        )
    )
    if open_concerns:
        return [
            f"An open safeguarding concern ({open_concerns}) must be kept until it is closed: "
            "close it (recording the outcome) before erasing this resident."
        ]
    return []


def blank_value(column: Any) -> Any:
    """The anonymised value for one column: NULL when allowed, otherwise a neutral value of its type."""
    if column.info.get("erase_to") is not None:
        return column.info["erase_to"]
    if column.nullable:
        return None
    kind = column.type
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer | Numeric | SqlFloat):
        return 0
    if isinstance(kind, String) and kind.length is not None and kind.length < len(ERASED):
        return ""
    return ERASED


def _secrets_of(value: Any) -> list[str]:
    """The strings worth hunting for elsewhere: whole values, and each line of free text."""
    if isinstance(value, str):
        found = [value.strip()] + [line.strip() for line in value.splitlines() if len(value.splitlines()) > 1]
        return [v for v in found if len(v) >= MIN_SCRUB_LENGTH and v != ERASED]
    if isinstance(value, list):
        return [s for item in value for s in _secrets_of(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _secrets_of(item)]
    return []


def _allow_history_redaction() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL can.redaction = 'on'"))


def _cancel_open_requests(resident_id: int, actor: Actor) -> int:
    cancelled = 0
    requests = db.session.scalars(select(HelpRequest).where(HelpRequest.resident_id == resident_id)).all()
    for request in requests:
        if Status(request.status) in TERMINAL_STATUSES:
            continue
        # No next occurrence of a recurring request for a person who asked to be forgotten.
        request.recurrence = "none"
        try:
            lifecycle.transition(request, Status.CANCELLED.value, actor, "The resident's record was erased")
            cancelled += 1
        except DomainError:
            continue
    db.session.flush()
    return cancelled


def _anonymise_rows(holdings: catalogue.Holdings, report: ErasureReport) -> list[str]:
    secrets: list[str] = []
    for name, rows in holdings.rows.items():
        tbl = catalogue.table(name)
        pk = catalogue.primary_key(tbl)
        columns = catalogue.personal_columns(tbl)
        if pk is None or not columns:
            continue
        for key, row in rows.items():
            values = {c.name: blank_value(c) for c in columns if row.get(c.name) != blank_value(c)}
            if not values:
                continue
            for column_name in values:
                secrets.extend(_secrets_of(row.get(column_name)))
            db.session.execute(update(tbl).where(pk == key).values(**values))
            report.anonymised[name] = report.anonymised.get(name, 0) + 1
    return secrets


def _scrubbed(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrubbed(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, pattern) for k, v in value.items()}
    return value


# Other people's own records: a coincidence (a neighbour's postcode, a namesake) is not a copy to cut out.
PEOPLE_TABLES = frozenset({"residents", "volunteers", "users"})


def scrub_everywhere(
    secrets: list[str], holdings: catalogue.Holdings, report: ErasureReport | None = None
) -> dict[str, int]:
    """Cut each value in `secrets` out of every text and JSON column: in the resident's own rows of the
    tables about residents, and in every row of every other table (jobs, saved searches, caches...)."""
    counts: dict[str, int] = {}
    about_residents = set(catalogue.referring_tables("residents"))
    unique = sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True)
    if not unique:
        return counts
    pattern = re.compile("|".join(re.escape(s) for s in unique), re.IGNORECASE)
    for tbl in catalogue.tables():
        pk = catalogue.primary_key(tbl)
        if pk is None or tbl.name in PEOPLE_TABLES:
            continue
        own_rows = sorted(holdings.ids(tbl.name)) if tbl.name in about_residents else None
        if own_rows == []:
            continue
        for column in catalogue.text_columns(tbl):
            as_text = cast(column, Text) if isinstance(column.type, JSON) else column
            hits = or_(*(func.lower(as_text).contains(s.lower(), autoescape=True) for s in unique))
            query = select(pk, column).where(hits)
            if own_rows is not None:
                query = query.where(pk.in_(own_rows))
            for key, value in db.session.execute(query).all():
                db.session.execute(update(tbl).where(pk == key).values({column.name: _scrubbed(value, pattern)}))
                counts[tbl.name] = counts.get(tbl.name, 0) + 1
    if report is not None:
        for name, n in counts.items():
            report.scrubbed[name] = report.scrubbed.get(name, 0) + n
    return counts


def _clear_map_cache() -> None:
    _remove_cached_maps()


def _remove_cached_maps() -> int:
    """Cached heat maps are derived from addresses: drop them all, they are rebuilt on the next view."""
    folder = current_app.config.get("HEATMAP_CACHE_DIR")
    path = folder or f"{current_app.instance_path}/heatmaps"
    removed = 0
    try:
        for entry in Path(path).iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
    except FileNotFoundError:
        return 0
    return removed


@atomic
def erase(resident_id: int, reason: str, actor_id: int | None, actor_role: str | None = None) -> ErasureReport:
    """Anonymise everything held about one resident, or raise ErasureBlocked (changing nothing)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for the erasure", "reason")
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise NotFound("No resident with that id")
    why_not = blockers(resident_id)
    if why_not:
        raise ErasureBlocked(" ".join(why_not))
    report = ErasureReport(resident_id)
    _allow_history_redaction()
    # Cancelling is a coordinator's move in the state machine; erasure acts for the council's coordinators
    # (from the CLI there is no user: the event then names the role only).
    report.cancelled_requests = _cancel_open_requests(resident_id, Actor(role="coordinator", user_id=actor_id))
    holdings = catalogue.collect("residents", resident_id)
    secrets = _anonymise_rows(holdings, report)
    scrub_everywhere(secrets, holdings, report)
    db.session.execute(update(Resident.__table__).where(Resident.id == resident_id).values(erased_at=utcnow()))
    # Each copy of the location was blanked or kept by its own declaration; make sure the requests' copy agrees.
    request_location.follow([resident_id])
    db.session.expire_all()
    report.kept = [
        f"{name}: {len(rows)} row(s) kept as anonymous counts" for name, rows in sorted(holdings.rows.items())
    ] + ["audit_log: who viewed or changed the record is kept (accountability, Art. 5(2))"]
    # Side effects once the anonymisation has committed (never if it rolls back).
    unit_of_work.on_commit(_clear_map_cache)
    touched = report.touched_tables()
    unit_of_work.on_commit(lambda: vacuum(touched))
    audit.record(actor_id, "erase_resident", "resident", resident_id, role=actor_role, records=holdings.count())
    if "request_events" in report.touched_tables():
        audit.record(actor_id, "redact_history", "resident", resident_id, role=actor_role)
    db.session.flush()
    return report


def vacuum(table_names: list[str]) -> None:
    """After the erasure has committed: rewrite the touched tables so old row versions are gone.

    VACUUM cannot run inside a transaction, so this uses its own autocommit connection."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    known = {t.name for t in catalogue.tables()}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in table_names:
            if name in known:  # names come from the metadata, never from input
                conn.execute(text(f'VACUUM "{name}"'))
