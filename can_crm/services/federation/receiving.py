"""Receiving a bundle (the inbox, or a file import): check it, then create the request as `new` with its provenance.

Checks, in order: JSON, schema, a known sender, us as the receiver, the signature (their current key, or the previous
one within its grace period), the agreement; then a bundle already received gets the same answer again; then expiry.
Any refusal is recorded (on its own connection) and raised, and the caller's transaction rolls back, so nothing is ever
half-imported; two deliveries racing each other create one request (a unique bundle id per direction).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import Channel, Status
from can_crm.models.federation import Handoff, Partner
from can_crm.models.request import HelpRequest
from can_crm.services.common.errors import DomainError, FieldErrors
from can_crm.services.federation import bundle as bundles
from can_crm.services.federation import partners, schema, sharing
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.events import SYSTEM, Actor, record_event
from can_crm.services.requests.occurrences import sla_due, unique_reference
from can_crm.services.residents import profiles as residents

MAX_BUNDLE_BYTES = 256 * 1024


class BundleRefused(DomainError):
    """A bundle we will not take; `code` says why, for the sender's records."""

    def __init__(self, code: str, message: str, status: int = 422, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = status
        if fields:
            self.fields = fields


@dataclass(frozen=True)
class Received:
    reference: str
    bundle_id: str
    created: bool

    def answer(self) -> dict[str, str]:
        return {"reference": self.reference, "bundle_id": self.bundle_id}


def parse(raw: bytes | str) -> Any:
    if len(raw) > MAX_BUNDLE_BYTES:
        raise BundleRefused("too_large", f"A bundle must be {MAX_BUNDLE_BYTES // 1024} KB or smaller", 413)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BundleRefused("malformed_bundle", "The bundle is not valid JSON", 400) from None


def _check(document: Any) -> tuple[dict[str, Any], Partner]:
    if not isinstance(document, dict):
        raise BundleRefused("malformed_bundle", "A bundle must be a JSON object", 400)
    if "signature" not in document:
        raise BundleRefused("unsigned", "The bundle is not signed", 401)
    problems = schema.problems(document)
    if problems:
        first = next(iter(problems.items()))
        raise BundleRefused(
            "schema_invalid", f"The bundle does not match can-handoff/1 at {first[0]}: {first[1]}", 422, problems
        )
    sender = document["sender"]["gss_code"]
    partner = partners.by_gss(sender)
    if partner is None:
        raise BundleRefused("unknown_sender", f"{sender} is not a partner authority of ours", 403)
    ours = current_app.config["AUTHORITY_GSS_CODE"]
    if document["receiver"]["gss_code"] != ours:
        raise BundleRefused("wrong_receiver", f"The bundle is for {document['receiver']['gss_code']}, not us ({ours})")
    try:
        signed_at = bundles.parse_timestamp(document["created_at"])
        expires = bundles.parse_timestamp(document["expires_at"])
    except ValueError:
        raise BundleRefused("schema_invalid", "created_at and expires_at must be real UTC times", 422) from None
    now = utcnow()
    if not bundles.signature_valid(document, partners.verifying_keys(partner, signed_at, now)):
        raise BundleRefused("bad_signature", f"The signature does not match {partner.name}'s key", 401)
    if document["agreement"]["reference"] != partner.agreement_ref:
        raise BundleRefused(
            "no_agreement", f"We hold no data-sharing agreement {document['agreement']['reference']!r} with them", 403
        )
    if expires <= signed_at:
        raise BundleRefused("schema_invalid", "expires_at must be after created_at")
    return document, partner


def _existing(bundle_id: str, partner: Partner) -> Received | None:
    row = db.session.execute(
        select(Handoff.partner_id, HelpRequest.reference)
        .join(HelpRequest, Handoff.request_id == HelpRequest.id)
        .where(Handoff.direction == "in", Handoff.bundle_id == bundle_id)
    ).first()
    if row is None:
        return None
    if row.partner_id != partner.id:
        raise BundleRefused("conflict", "A different authority already sent a bundle with this id", 409)
    return Received(row.reference, bundle_id, created=False)


def _resident_data(document: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in document["resident"].items()}


def _create(document: dict[str, Any], partner: Partner, channel: str) -> Received:
    """Create the resident, the request (new) and the inbound handoff with its provenance; flush only."""
    sent = document["request"]
    request_data = {k: sent[k] for k in ("type", "urgency", "required_skills", "min_dbs", "recurrence")}
    request_data["details"] = sent["need"]
    try:
        cleaned = request_service.clean_request(request_data)
        resident = residents.create_resident(_resident_data(document), None)
    except FieldErrors as exc:
        raise BundleRefused(
            "invalid_content", f"The bundle's data is not acceptable: {exc.message}", 422, exc.fields
        ) from None
    # Whatever the sender's date (even past, for an overdue request) is what the resident was promised.
    due_by = date.fromisoformat(sent["due_by"]) if sent["due_by"] else None
    now = utcnow()
    cleaned["due_by"] = due_by
    request = HelpRequest(
        reference=unique_reference(),
        resident_id=resident.id,
        status=Status.NEW.value,
        channel=Channel.HANDOFF.value,
        created_at=now,
        sla_due_at=sla_due(cleaned["type"], now, due_by),
        coordinator_notes=sent["notes_for_receiver"],
        **cleaned,
    )
    db.session.add(request)
    db.session.flush()
    record_event(
        request,
        Actor(role=SYSTEM),
        "created",
        None,
        Status.NEW.value,
        f"Handed over by {partner.name} (their reference {sent['reference']}): {document['reason']}"[:2000],
    )
    db.session.add(
        Handoff(
            bundle_id=document["bundle_id"],
            direction="in",
            state="received",
            request_id=request.id,
            partner_id=partner.id,
            channel=channel,
            reason=document["reason"],
            notes=sent["notes_for_receiver"],
            partner_reference=sent["reference"],
            bundle=document,
            attempts=1,
            created_at=now,
            answered_at=now,
        )
    )
    sharing.record(
        direction="received",
        outcome="imported",
        partner=partner,
        bundle=document,
        request_reference=request.reference,
        partner_reference=sent["reference"],
        channel=channel,
        actor_id=None,
    )
    db.session.flush()
    return Received(request.reference, document["bundle_id"], created=True)


def receive(raw: bytes | str | dict[str, Any], channel: str = "http") -> Received:
    """Take one bundle (raw JSON or parsed). Returns the request created, or the one a replay already created."""
    document: Any = raw
    claimed: dict[str, Any] = {}
    try:
        if not isinstance(raw, dict):
            document = parse(raw)
        if isinstance(document, dict):
            claimed = document
        checked, partner = _check(document)
        found = _existing(checked["bundle_id"], partner)
        if found is not None:
            return found
        if bundles.parse_timestamp(checked["expires_at"]) <= utcnow():
            raise BundleRefused("expired", "The bundle has expired: ask the sender for a new one", 422)
        try:
            return _create(checked, partner, channel)
        except IntegrityError:
            # The same bundle, delivered twice at once: the other delivery created it; answer as it did. The
            # transaction holds nothing else (one bundle per request or command), so rolling it all back is exact.
            db.session.rollback()
            found = _existing(checked["bundle_id"], partner)
            if found is None:
                raise
            return found
    except BundleRefused as exc:
        sender = claimed.get("sender")
        sharing.record_refusal(
            claimed.get("bundle_id"),
            sender.get("gss_code") if isinstance(sender, dict) else None,
            channel,
            exc.code,
            exc.message,
        )
        raise
