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
