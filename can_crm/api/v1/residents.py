"""/api/v1/residents (coordinators only): list, read (audited), update with the forms' validation."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import STAFF, roles
from can_crm.api.v1 import schemas
from can_crm.api.v1.errors import documents, rename_fields
from can_crm.api.v1.present import page_out, resident_out
from can_crm.api.v1.requests import resident_input, search_terms
from can_crm.api.v1.schemas import MAX_ID
from can_crm.services.common import audit
from can_crm.services.common.errors import FieldErrors, NotFound
from can_crm.services.privacy import reads
from can_crm.services.residents import profiles as residents

blp = Blueprint("residents", __name__, url_prefix="/residents", description="Residents (coordinators only)")
TAGS = ["residents"]


def _checked(resident_id: int) -> int:
    """A number too big to be an id is simply not found (and never reaches the database)."""
    if resident_id > MAX_ID:
        raise NotFound("No resident with that id")
    return resident_id


@blp.route("", methods=["GET"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.ResidentListArgsSchema, location="query")
@blp.response(200, schemas.ResidentPageSchema)
@documents(blp, 401, 403, 422)
def list_residents(args: dict[str, Any]) -> Any:
    """List residents, oldest record first, optionally searching name or postcode (a saved `search` key)"""
    search = (search_terms(args, "api_residents") or "").strip()[:100] or None
    rows, total = residents.list_residents(args["page"], args["per_page"], search)
    items = [resident_out(resident, current_user) for resident in rows]
    reads.record_search(current_user, "api_residents", len(items))
    query = {"search": args["search"]} if search else {}
    return page_out(items, args["page"], args["per_page"], total, "api_v1.residents.list_residents", query)


@blp.route("/<int:resident_id>", methods=["GET"], tags=TAGS)
@roles(*STAFF)
@blp.response(200, schemas.ResidentOutSchema)
@documents(blp, 401, 403, 404)
def get_resident(resident_id: int) -> Any:
    """Read a resident (the read is recorded in the audit log)"""
    resident = residents.get_resident(_checked(resident_id))
    audit.record(current_user.id, "view_resident", "resident", resident.id)
    return resident_out(resident, current_user)


@blp.route("/<int:resident_id>", methods=["PATCH"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.ResidentPatchSchema, description="Only the fields sent are checked and changed")
@blp.response(200, schemas.ResidentOutSchema)
@documents(blp, 400, 401, 403, 404, 415, 422)
def update_resident(data: dict[str, Any], resident_id: int) -> Any:
    """Update a resident, with the same rules as the coordinator's form (the change is audited)"""
    resident = residents.get_resident(_checked(resident_id))
    changes, renames = resident_input(data, "")
    if "address_line1" not in data and "address" not in data:
        renames = {}
    try:
        residents.update_resident(resident, changes or {})
    except FieldErrors as exc:
        raise rename_fields(exc, renames) from None
    audit.record(current_user.id, "update_resident", "resident", resident.id)
    return resident_out(resident, current_user)
