"""Each request carries a copy of its resident's location (requests.h3_map, lat, lon; migration 0014), so Nearby
finds the self-service pool by H3 cell through an index and orders it by distance without reading residents.

`follow` is the one place that copy is written. Call it after anything that writes a resident's location or adds
requests: intake, a coordinator placing a resident the directory does not list, a resident's update, the handoff
import, the shielded-list import, erasure. Columns are declared alike on both tables (h3_map not personal, lat and
lon personal), so erasure blanks or keeps both copies the same way and subject access exports both.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, update

from can_crm.extensions import db
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.common.sql import one_of

COPIED = ("h3_map", "lat", "lon")


def follow(resident_ids: Iterable[int | None]) -> int:
    """Copy these residents' location onto every one of their requests that differs. Returns the rows changed.

    Flushes first (the copy is read from the residents' rows in the database). Requests already in the session
    have the copied attributes refreshed."""
    ids = sorted({i for i in resident_ids if i is not None})
    if not ids:
        return 0
    db.session.flush()
    statement = (
        update(HelpRequest)
        .where(
            HelpRequest.resident_id == Resident.id,
            one_of(Resident.id, ids),
            or_(*(getattr(HelpRequest, name).is_distinct_from(getattr(Resident, name)) for name in COPIED)),
        )
        .values({name: getattr(Resident, name) for name in COPIED})
        .execution_options(synchronize_session="fetch")
    )
    return int(db.session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
