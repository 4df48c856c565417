"""Importing the shielded-residents list: validate, deduplicate against residents, write in bulk.

Deduplication: the NHS number first, then name + date of birth + postcode. A row matching a resident whose
details are the same is a duplicate and changes nothing, so importing the same file again changes nothing;
a row matching with new details updates that resident. The whole import is one transaction: a file refused
part-way (say a huge field on row 90,000) leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import ContactChannel, LawfulBasis, LocationSource
from can_crm.models.outreach import ShieldedImport
from can_crm.models.resident import Resident
from can_crm.services.common import geocoding, times
from can_crm.services.common.errors import NotFound
from can_crm.services.common.jobs import start_job
from can_crm.services.outreach.shielded_csv import (
    FileRefused,
    RowError,
    check_mapping,
    clean_row,
    decode,
    error_csv,
    rows,
)
from can_crm.services.residents import request_location
from geo.cells import h3_cells
from geo.postcodes import InvalidPostcode, UnknownPostcode

ProgressFn = Callable[[int, str | None], None]
COMPARED = ("name", "date_of_birth", "address_line1", "address_line2", "town", "postcode", "phone", "mobile", "email")
_LOCATION = ("lat", "lon", "ward_code", "authority_code", "h3_fine", "h3_map", "location_source")


def _no_progress(percent: int, message: str | None = None) -> None:
    return None


def _place(postcode: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Location columns for a postcode (unknown to the directory: location left unknown, not refused)."""
    if postcode in cache:
        return cache[postcode]
    directory = geocoding.directory()
    place: dict[str, Any] = dict.fromkeys(_LOCATION)
    if directory is not None:
        try:
            record = directory.geocode(postcode)
        except (UnknownPostcode, InvalidPostcode):
            record = None
        if record is not None:
            fine, coarse = h3_cells(record.lat, record.lon)
            place = {
                "lat": record.lat,
                "lon": record.lon,
                "ward_code": record.ward_gss or None,
                "authority_code": record.authority_gss or None,
                "h3_fine": fine,
                "h3_map": coarse,
                "location_source": LocationSource.POSTCODE.value,
            }
    cache[postcode] = place
    return place


def _resident_values(row: Mapping[str, Any]) -> dict[str, Any]:
    channel = ContactChannel.SMS if row["mobile"] else ContactChannel.PHONE if row["phone"] else ContactChannel.LETTER
    return {
        "name": f"{row['first_name']} {row['last_name']}"[:120],
        "date_of_birth": row["date_of_birth"],
        "nhs_number": row["nhs_number"],
        "address_line1": row["address_line1"],
        "address_line2": row["address_line2"],
        "town": row["address_line3"],
        "postcode": row["postcode"],
        "phone": row["phone"] or row["mobile"],
        "mobile": row["mobile"],
        "email": row["email"],
        "preferred_channel": channel.value,
    }


def import_shielded(
    content: bytes,
    mapping: object = None,
    *,
    dry_run: bool = False,
    created_by_id: int | None = None,
    progress: ProgressFn = _no_progress,
) -> tuple[dict[str, int], list[RowError]]:
    """Import one file in the caller's transaction. Raises FileRefused (and writes nothing) for a bad file."""
    text = decode(content, int(current_app.config["SHIELDED_IMPORT_MAX_BYTES"]))
    fields = check_mapping(mapping)
    today = times.today()
    by_nhs: dict[str, int] = {}
    by_person: dict[tuple[str, Any, str], int] = {}
    current: dict[int, dict[str, Any]] = {}
    query = select(Resident.id, Resident.nhs_number, *(getattr(Resident, c) for c in COMPARED if c != "nhs_number"))
    for found in db.session.execute(query):
        record = dict(found._mapping)
        current[record["id"]] = record
        if record["nhs_number"]:
            by_nhs[record["nhs_number"]] = record["id"]
        if record["date_of_birth"] is not None:
            by_person[(record["name"].lower(), record["date_of_birth"], record["postcode"])] = record["id"]

    errors: list[RowError] = []
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    seen: set[str] = set()
    duplicates = total = 0
    places: dict[str, dict[str, Any]] = {}
    approx_rows = max(1, text.count("\n"))
    for line, raw in rows(text, fields):
        total += 1
        if total % 5000 == 0:
            progress(min(70, 70 * total // approx_rows), f"Checked {total:,} rows")
        cleaned, problems = clean_row(raw, today)
        if problems:
            errors.extend(RowError(line, column, message, raw.get(column, "")) for column, message in problems)
            continue
        values = _resident_values(cleaned)
        key = values["nhs_number"]
        if key in seen:
            duplicates += 1  # the same person twice in one file
            continue
        seen.add(key)
        existing = by_nhs.get(key) or by_person.get(
            (values["name"].lower(), values["date_of_birth"], values["postcode"])
        )
        if existing is None:
            new_rows.append({**values, **_place(values["postcode"], places)})
            continue
        before = current[existing]
        changed = {c: values[c] for c in COMPARED if before.get(c) != values[c]}
        if before.get("nhs_number") != key:
            changed["nhs_number"] = key
        if not changed:
            duplicates += 1
            continue
        if "postcode" in changed:
            changed.update(_place(values["postcode"], places))
        updates.append({"id": existing, "shielding": True, **changed})

    summary = {
        "rows": total,
        "imported": len(new_rows),
        "updated": len(updates),
        "duplicates": duplicates,
        "errors": len({e.row for e in errors}),
    }
    if dry_run:
        return summary, errors
    progress(75, f"Saving {len(new_rows):,} new residents")
    now = utcnow()
    defaults = {
        "shielding": True,
        "consent_given": False,
        "lawful_basis": LawfulBasis.PUBLIC_TASK.value,
        "language": "English",
        "locale": "en",
        "notifications_opt_out": False,
        "created_by_id": created_by_id,
        "created_at": now,
        "updated_at": now,
    }
    _insert(new_rows, defaults, progress)
    # Rows updated in groups with the same columns: one executemany per shape.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in updates:
        shapes.setdefault(tuple(sorted(row)), []).append({**row, "updated_at": now})
    for group in shapes.values():
        db.session.execute(update(Resident), group)
    db.session.flush()
    request_location.follow(row["id"] for row in updates if "lat" in row)
    return summary, errors


def _insert(new_rows: list[dict[str, Any]], defaults: dict[str, Any], progress: ProgressFn) -> None:
    """New residents in the import's transaction: COPY on PostgreSQL (100,000 rows in seconds), else executemany."""
    if not new_rows:
        return
    columns = [*defaults, *new_rows[0]]
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.execute(insert(Resident.__table__), [{**defaults, **row} for row in new_rows])
        return
    raw = connection.connection.driver_connection
    quoted = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY residents ({quoted}) FROM STDIN") as copy:  # type: ignore[union-attr]
        for n, row in enumerate(new_rows, start=1):
            merged = {**defaults, **row}
            copy.write_row([merged[name] for name in columns])
            if n % 20000 == 0:
                progress(75 + 20 * n // len(new_rows), f"Saved {n:,} new residents")


def start_import(content: bytes, filename: str, mapping: object, dry_run: bool, user_id: int | None) -> ShieldedImport:
    """Store the upload and start its job (the job carries only the import's id)."""
    row = ShieldedImport(
        filename=filename[:200] or "upload.csv",
        content=content,
        mapping=mapping if isinstance(mapping, dict) else None,
        file_sha256=hashlib.sha256(content).hexdigest(),
        dry_run=dry_run,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    job = start_job("import_shielded", {"import_id": row.id}, user_id)
    row.job_id = job.id
    return row


def run_import(import_id: int, progress: ProgressFn) -> dict[str, Any]:
    """The `import_shielded` job: import the stored file, keep the summary and the errors, drop the file."""
    record = db.session.get(ShieldedImport, import_id)
    if record is None:
        raise NotFound("No import with that id")
    if record.state != "queued":
        return record.summary or {}
    try:
        summary, errors = import_shielded(
            record.content or b"",
            record.mapping,
            dry_run=record.dry_run,
            created_by_id=record.created_by_id,
            progress=progress,
        )
    except FileRefused as exc:
        db.session.rollback()
        record = db.session.get(ShieldedImport, import_id)
        assert record is not None
        record.state, record.refused_reason, record.content = "refused", str(exc), None
        record.finished_at = utcnow()
        db.session.flush()
        return {"refused": str(exc)}
    record.state, record.summary, record.content = "done", summary, None
    record.error_csv = error_csv(errors) if errors else None
    record.finished_at = utcnow()
    db.session.flush()
    return summary


def get_import(import_id: int) -> ShieldedImport:
    record = db.session.get(ShieldedImport, import_id)
    if record is None:
        raise NotFound("No import with that id")
    return record


def recent_imports(limit: int = 20) -> list[ShieldedImport]:
    return list(db.session.scalars(select(ShieldedImport).order_by(ShieldedImport.id.desc()).limit(limit)))
