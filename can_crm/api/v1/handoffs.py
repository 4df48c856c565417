"""Handoff between authorities: hand a request off, the inbox partners push to, the bundle's JSON Schema, and the
data-sharing log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request, url_for
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from can_crm.access import STAFF, public, roles
from can_crm.api.v1 import schemas
from can_crm.api.v1.errors import documents
from can_crm.api.v1.present import handoff_out
from can_crm.http import csrf_exempt
from can_crm.models.enums import Role
from can_crm.services.common.errors import NotFound
from can_crm.services.federation import receiving, sending, sharing
from can_crm.services.federation.schema import SCHEMA
from can_crm.services.requests.references import normalise_reference

blp = Blueprint("handoffs", __name__, url_prefix="", description="Handoff between authorities")
MAX_BATCH = 500
MAX_BATCH_BYTES = 16 * 1024 * 1024
TAGS = ["handoffs"]


class HandoffInSchema(schemas.StrictSchema):
    to = fields.String(
        required=True, metadata={"description": "The partner authority's GSS code", "example": "E09000020"}
    )
    reason = fields.String(required=True, metadata={"maxLength": 2000, "description": "Why (shared with the partner)"})
    notes = fields.String(allow_none=True, metadata={"maxLength": 2000, "description": "Notes for the receiver"})


class HandoffAcceptedSchema(ma.Schema):
    class Meta:
        ordered = True

    reference = fields.String()
    status = fields.String(metadata={"example": "handed_off"})
    handoff = fields.Nested(schemas.HandoffOutSchema)
    links = fields.Nested(schemas.LinksSchema)


class InboxAnswerSchema(ma.Schema):
    class Meta:
        ordered = True

    reference = fields.String(
        metadata={"description": "Our reference for the request created", "example": "CAN-7KQ2-94XD"}
    )
    bundle_id = fields.String()


class SharingEntrySchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    direction = fields.String(metadata={"enum": ["disclosed", "received"]})
    outcome = fields.String(metadata={"enum": ["acknowledged", "rejected", "exported", "imported"]})
    partner_gss = fields.String()
    partner_name = fields.String()
    bundle_id = fields.String()
    request_reference = fields.String()
    partner_reference = fields.String(allow_none=True)
    data_categories = fields.String()
    purpose = fields.String()
    agreement_ref = fields.String()
    lawful_basis = fields.String()
    channel = fields.String(metadata={"enum": ["http", "file"]})
    actor_id = fields.Integer(allow_none=True)


class SharingLogSchema(ma.Schema):
    items = fields.List(fields.Nested(SharingEntrySchema))
    limit = fields.Integer()
    offset = fields.Integer()


class SharingLogArgsSchema(ma.Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


@blp.route("/requests/<reference>/handoff", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(HandoffInSchema)
@blp.response(202, HandoffAcceptedSchema, description="Accepted: the request is handed_off and a job pushes it")
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def hand_off(data: dict[str, Any], reference: str) -> Any:
    """Hand a request off to a partner authority (coordinators)

    The request moves to `handed_off` now and a job pushes the signed bundle to the partner's inbox, with retries
    and back-off. `GET /api/v1/requests/{reference}` then shows the handoff's state, and the partner's reference
    once acknowledged; a rejection returns the request to triage with the reason in its history.
    """
    canonical = normalise_reference(reference)
    if canonical is None:
        raise NotFound(f"No request with reference {reference[:20]}")
    (made,) = sending.hand_off(current_user, [canonical], data["to"], data["reason"], data.get("notes"))
    location = url_for("api_v1.requests.get_request", reference=canonical, _external=True)
    body = {"reference": canonical, "status": "handed_off", "handoff": handoff_out(made), "links": {"self": location}}
    return body, {"Location": location}


@blp.route("/handoffs/inbox", methods=["POST"], tags=TAGS)
@public
@csrf_exempt
@blp.doc(
    security=[],
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A signed can-handoff/1 bundle (JSON Schema: /api/v1/schemas/can-handoff-1.json)",
                }
            }
        },
    },
)
@blp.response(201, InboxAnswerSchema, description="Created, or the same answer again for a bundle already received")
@documents(blp, 400, 401, 403, 409, 422)
def inbox() -> Any:
    """Receive a handoff bundle from a partner authority

    Authenticated by the bundle's Ed25519 signature (no token). Checks the schema, the sender (a registered
    partner), the receiver (us), the signature, the agreement and the expiry, then creates the request as `new`.
    Delivering the same bundle again creates nothing and gets the same 201 body.
    """
    received = receiving.receive(request.get_data(cache=False))
    return received.answer()


class BatchResultSchema(ma.Schema):
    class Meta:
        ordered = True

    bundle_id = fields.String(allow_none=True)
    status = fields.Integer(metadata={"description": "What the single inbox would have answered: 201, or a 4xx"})
    reference = fields.String(metadata={"description": "Our reference, when accepted (201)"})
    error = fields.Nested(schemas.ErrorBodySchema, metadata={"description": "Why it was refused (4xx)"})


class BatchAnswerSchema(ma.Schema):
    results = fields.List(fields.Nested(BatchResultSchema), metadata={"description": "One per bundle, in order"})


def _batch_result(raw: Any, outcome: receiving.Received | receiving.BundleRefused) -> dict[str, Any]:
    if isinstance(outcome, receiving.Received):
        return {"bundle_id": outcome.bundle_id, "status": 201, "reference": outcome.reference}
    error: dict[str, Any] = {"code": outcome.code, "message": outcome.message}
    if getattr(outcome, "fields", None):
        error["fields"] = outcome.fields
    bundle_id = raw.get("bundle_id") if isinstance(raw, dict) else None
    return {
        "bundle_id": bundle_id if isinstance(bundle_id, str) else None,
        "status": outcome.http_status,
        "error": error,
    }


@blp.route("/handoffs/inbox/batch", methods=["POST"], tags=TAGS)
@public
@csrf_exempt
@blp.doc(
    security=[],
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["bundles"],
                    "properties": {"bundles": {"type": "array", "maxItems": MAX_BATCH, "items": {"type": "object"}}},
                }
            }
        },
    },
)
@blp.response(200, BatchAnswerSchema, description="One result per bundle, each as the single inbox would answer")
@documents(blp, 400)
def inbox_batch() -> Any:
    """Receive up to 500 handoff bundles at once (bulk handoffs)

    Each bundle is checked exactly as by `POST /api/v1/handoffs/inbox` and answered on its own: one bad bundle does
    not stop the others. The accepted ones are written together.
    """
    request.max_content_length = MAX_BATCH_BYTES
    document = receiving.parse_batch(request.get_data(cache=False), MAX_BATCH, MAX_BATCH_BYTES)
    outcomes = receiving.receive_many(document)
    return {"results": [_batch_result(raw, outcome) for raw, outcome in zip(document, outcomes, strict=True)]}


@blp.route("/schemas/can-handoff-1.json", methods=["GET"], tags=TAGS)
@public
@blp.doc(security=[], responses={"200": {"description": "The JSON Schema (draft 2020-12) of a can-handoff/1 bundle"}})
def handoff_schema() -> Any:
    """The JSON Schema of a can-handoff/1 bundle"""
    return SCHEMA


@blp.route("/data-sharing-log", methods=["GET"], tags=TAGS)
@roles(Role.ADMIN)
@blp.arguments(SharingLogArgsSchema, location="query", as_kwargs=False)
@blp.response(200, SharingLogSchema)
@documents(blp, 401, 403, 422)
def data_sharing_log(args: dict[str, Any]) -> Any:
    """The data-sharing log: every disclosure to or from another authority, newest first (admins)

    The same log as CSV: /admin/data-sharing-log.csv.
    """
    items = [sharing.entry_out(e) for e in sharing.entries(args["limit"], args["offset"])]
    return {"items": items, "limit": args["limit"], "offset": args["offset"]}
