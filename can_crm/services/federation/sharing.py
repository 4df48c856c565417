"""The data-sharing log (every disclosure to or from another authority) and the record of refused bundles."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.federation import DataSharingEntry, HandoffRefusal, Partner
from can_crm.services.federation.schema import DATA_CATEGORIES

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "id",
    "created_at",
    "direction",
    "outcome",
    "partner_gss",
    "partner_name",
    "bundle_id",
    "request_reference",
    "partner_reference",
    "data_categories",
    "purpose",
    "agreement_ref",
    "lawful_basis",
    "channel",
    "actor_id",
)


def record(
    *,
    direction: str,
    outcome: str,
    partner: Partner,
    bundle: dict[str, Any],
    request_reference: str,
    partner_reference: str | None,
    channel: str,
    actor_id: int | None,
) -> DataSharingEntry:
    entry = DataSharingEntry(
        direction=direction,
        outcome=outcome,
        partner_gss=partner.gss_code,
        partner_name=partner.name,
        bundle_id=bundle["bundle_id"],
        request_reference=request_reference,
        partner_reference=partner_reference,
        data_categories=DATA_CATEGORIES,
        purpose=bundle["reason"],
        agreement_ref=bundle["agreement"]["reference"],
        lawful_basis=bundle["agreement"]["lawful_basis"],
        channel=channel,
        actor_id=actor_id,
        created_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def entries(limit: int = 500, offset: int = 0) -> list[DataSharingEntry]:
    query = select(DataSharingEntry).order_by(DataSharingEntry.created_at.desc(), DataSharingEntry.id.desc())
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def entry_out(entry: DataSharingEntry) -> dict[str, Any]:
    out = {name: getattr(entry, name) for name in CSV_COLUMNS}
    out["created_at"] = entry.created_at.isoformat()
    return out


def csv_rows() -> Iterator[str]:
    """The whole log as CSV, oldest first, streamed a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = select(DataSharingEntry).order_by(DataSharingEntry.created_at, DataSharingEntry.id)
    for entry in db.session.scalars(query.execution_options(yield_per=500)):
        row = entry_out(entry)
        # A cell starting with = + - @ is a formula in a spreadsheet: quote it as text.
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in row.values()])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def record_refusal(bundle_id: object, claimed_sender: object, channel: str, code: str, message: str) -> None:
    """Write a refusal on its own connection: the request's transaction is rolled back (nothing is half-imported),
    yet the refusal must stay on record. Holds nothing from the bundle but its claimed id and sender."""
    values = {
        "bundle_id": str(bundle_id)[:64] if isinstance(bundle_id, str) else None,
        "claimed_sender": str(claimed_sender)[:12] if isinstance(claimed_sender, str) else None,
        "channel": channel,
        "code": code[:40],
        "message": message[:300],
        "created_at": utcnow(),
    }
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(HandoffRefusal).values(**values))
    except SQLAlchemyError:
        log.warning("could not record a refused bundle (%s)", code, exc_info=True)


def refusals(limit: int = 100) -> list[HandoffRefusal]:
    query = select(HandoffRefusal).order_by(HandoffRefusal.created_at.desc(), HandoffRefusal.id.desc())
    return list(db.session.scalars(query.limit(limit)))
