"""/api/v1 data-protection operations: subject access and erasure (coordinators with the privacy
permission), the audit log (admins), and saved searches (search terms in the body, never the URL)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import RAISERS, roles
from can_crm.api.v1 import schemas
from can_crm.api.v1.errors import documents
from can_crm.auth import sensitive
from can_crm.models.enums import Role
from can_crm.services.common.errors import Forbidden, NotFound
from can_crm.services.privacy import erasure, reads, searches, subject_access

blp = Blueprint("privacy", __name__, url_prefix="", description="Data protection")
TAGS = ["privacy"]


class ErasureInSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class SearchInSchema(ma.Schema):
    scope = ma.fields.String(required=True, validate=ma.validate.OneOf(["requests", "residents"]))
    q = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))


class AuditArgsSchema(ma.Schema):
    resident_id = ma.fields.Integer(strict=False, validate=ma.validate.Range(min=1, max=schemas.MAX_ID))
    actor_id = ma.fields.Integer(strict=False, validate=ma.validate.Range(min=1, max=schemas.MAX_ID))


def _privacy_officer() -> None:
    """Coordinators granted the privacy permission; a scoped token must carry the `privacy` scope."""
    if not current_user.privacy_officer:
        raise Forbidden("You need the privacy permission (an admin grants it)")
    sensitive.require_scope("privacy")
    sensitive.require_recent_password()


def _checked(resident_id: int) -> int:
    if resident_id > schemas.MAX_ID:
        raise NotFound("No resident with that id")
    return resident_id


@blp.route("/residents/<int:resident_id>/subject-access", methods=["GET"], tags=TAGS)
@roles(Role.COORDINATOR)
@blp.response(200)
@documents(blp, 401, 403, 404)
def subject_access_export(resident_id: int) -> Any:
    """Everything held about a resident (UK GDPR Art. 15), every table that refers to them; the export is logged"""
    _privacy_officer()
    result = subject_access.export(_checked(resident_id), current_user.id, current_user.role)
    return result.as_json()


@blp.route("/residents/<int:resident_id>/erasure", methods=["POST"], tags=TAGS)
@roles(Role.COORDINATOR)
@blp.arguments(ErasureInSchema)
@blp.response(200)
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def erase_resident(data: dict[str, Any], resident_id: int) -> Any:
    """Anonymise a resident everywhere (UK GDPR Art. 17); 409 `erasure_blocked` with the reason when an
    open safeguarding concern must be kept"""
    _privacy_officer()
    report = erasure.erase(_checked(resident_id), data["reason"], current_user.id, current_user.role)
    return {"erased": True, **report.as_json()}


@blp.route("/audit", methods=["GET"], tags=TAGS)
@roles(Role.ADMIN)
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200)
@documents(blp, 401, 403, 422)
def audit_log(args: dict[str, Any]) -> Any:
    """The audit log, newest first (who viewed, changed, searched or exported what), filtered by resident or actor"""
    rows = reads.entries(args.get("resident_id"), args.get("actor_id"))
    return {
        "items": [
            {
                "id": e.id,
                "at": e.created_at.isoformat(),
                "actor_id": e.actor_id,
                "actor_role": e.actor_role,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "resident_id": e.resident_id,
                "records": e.records,
            }
            for e in rows
        ],
        "flagged": [
            {"user_id": f.user_id, "role": f.role, "records": f.records, "since": f.since.isoformat()}
            for f in reads.flagged()
        ],
    }


@blp.route("/searches", methods=["POST"], tags=TAGS)
@roles(*RAISERS)
@blp.arguments(SearchInSchema)
@blp.response(201)
@documents(blp, 400, 401, 403, 415, 422)
def save_search(data: dict[str, Any]) -> Any:
    """Save search terms server-side; pass the returned `search` key to GET /requests or /residents"""
    if data["scope"] == "residents" and current_user.role != Role.COORDINATOR.value:
        raise Forbidden("Only coordinators search residents")
    key = searches.save(current_user.id, f"api_{data['scope']}", {"q": data["q"].strip()})
    return {"search": key}
