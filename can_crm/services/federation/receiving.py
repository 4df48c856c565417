"""Receiving bundles (the inbox, its batch form, or a file import): check each, then create its request as `new` with
its provenance.

Checks, in order: JSON, schema, a known sender, us as the receiver, the signature (their current key, or the previous
one within its grace period), the agreement; then a bundle already received gets the same answer again; then expiry.
Any refusal is recorded (on its own connection) and nothing of that bundle is written; a batch writes its accepted
bundles together (a few statements for the lot, not a few per bundle), and a failure while writing fails the whole
batch, which the sender retries. Two deliveries racing each other create one request (a unique bundle id per
direction).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
from can_crm.models.resident import Resident
from can_crm.services.common.errors import DomainError, FieldErrors
from can_crm.services.common.sql import one_of
from can_crm.services.federation import bundle as bundles
from can_crm.services.federation import partners, schema, sharing
from can_crm.services.requests import delivery
from can_crm.services.requests.events import SYSTEM, Actor, record_event
from can_crm.services.requests.occurrences import sla_due
from can_crm.services.requests.references import new_reference
from can_crm.services.requests.rules import clean_request
from can_crm.services.residents import profiles as residents
from can_crm.services.residents import request_location

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


def parse_batch(raw: bytes, max_items: int, max_bytes: int) -> list[Any]:
    """The bundles of a batch body `{"bundles": [...]}`; each is checked on its own later."""
    if len(raw) > max_bytes:
        raise BundleRefused("too_large", f"A batch must be {max_bytes // (1024 * 1024)} MB or smaller", 413)
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BundleRefused("malformed_batch", "The body is not valid JSON", 400) from None
    items = document.get("bundles") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        raise BundleRefused("malformed_batch", 'Send {"bundles": [bundle, ...]} with at least one bundle', 400)
    if len(items) > max_items:
        raise BundleRefused("too_large", f"Send at most {max_items} bundles at once", 413)
    return items


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


def _existing(bundle_ids: list[str]) -> dict[str, tuple[int, str]]:
    """Bundles already received, by id: (partner id, our reference)."""
    if not bundle_ids:
        return {}
    rows = db.session.execute(
        select(Handoff.bundle_id, Handoff.partner_id, HelpRequest.reference)
        .join(HelpRequest, Handoff.request_id == HelpRequest.id)
        .where(Handoff.direction == "in", one_of(Handoff.bundle_id, bundle_ids))
    )
    return {row.bundle_id: (row.partner_id, row.reference) for row in rows}


def _resident_data(document: dict[str, Any]) -> dict[str, Any]:
    return {k: ("" if v is None else v) for k, v in document["resident"].items()}


@dataclass
class _Accepted:
    document: dict[str, Any]
    partner: Partner
    request_data: dict[str, Any]
    resident: Resident | None = None
    request: HelpRequest | None = None


def _clean(document: dict[str, Any], partner: Partner) -> _Accepted:
    """Validate what the bundle says with our own rules; adds its resident to the session (unflushed)."""
    sent = document["request"]
    request_data = {k: sent[k] for k in ("type", "urgency", "required_skills", "min_dbs", "recurrence")}
    request_data["details"] = sent["need"]
    if sent.get("delivery"):
        request_data.update(delivery.from_described(sent["delivery"]))
    try:
        cleaned = clean_request(request_data)
        resident = residents.build_resident(_resident_data(document), None)
    except FieldErrors as exc:
        raise BundleRefused(
            "invalid_content", f"The bundle's data is not acceptable: {exc.message}", 422, exc.fields
        ) from None
    # Whatever the sender's date (even past, for an overdue request) is what the resident was promised.
    cleaned["due_by"] = date.fromisoformat(sent["due_by"]) if sent["due_by"] else None
    return _Accepted(document, partner, cleaned, resident)


def _references(count: int) -> list[str]:
    """`count` new request references, none already in use (one query for the lot)."""
    while True:
        wanted = {new_reference() for _ in range(count)}
        taken = set(db.session.scalars(select(HelpRequest.reference).where(one_of(HelpRequest.reference, wanted))))
        if len(wanted) == count and not taken:
            return sorted(wanted)


def _create_all(accepted: list[_Accepted], channel: str) -> None:
    """Residents, then requests, then history, handoffs and log rows: three flushes for the whole batch."""
    now = utcnow()
    db.session.flush()
    for item, reference in zip(accepted, _references(len(accepted)), strict=True):
        assert item.resident is not None
        cleaned = item.request_data
        item.request = HelpRequest(
            reference=reference,
            resident_id=item.resident.id,
            status=Status.NEW.value,
            channel=Channel.HANDOFF.value,
            created_at=now,
            sla_due_at=sla_due(cleaned["type"], now, cleaned["due_by"]),
            coordinator_notes=item.document["request"]["notes_for_receiver"],
            **cleaned,
        )
        db.session.add(item.request)
    db.session.flush()
    request_location.follow(item.resident.id for item in accepted if item.resident is not None)
    for item in accepted:
        document, partner, request = item.document, item.partner, item.request
        assert request is not None
        sent = document["request"]
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


def _refuse(claimed: Any, channel: str, exc: BundleRefused) -> BundleRefused:
    claimed = claimed if isinstance(claimed, dict) else {}
    sender = claimed.get("sender")
    sharing.record_refusal(
        claimed.get("bundle_id"),
        sender.get("gss_code") if isinstance(sender, dict) else None,
        channel,
        exc.code,
        exc.message,
    )
    return exc


def _receive_all(raws: Sequence[Any], channel: str) -> list[Received | BundleRefused]:
    results: list[Received | BundleRefused | None] = [None] * len(raws)
    checked: list[tuple[int, dict[str, Any], Partner]] = []
    for i, raw in enumerate(raws):
        document = raw
        try:
            if not isinstance(raw, dict):
                document = parse(raw)
            found, partner = _check(document)
            checked.append((i, found, partner))
        except BundleRefused as exc:
            results[i] = _refuse(document, channel, exc)
    known = _existing([doc["bundle_id"] for _, doc, _ in checked])
    accepted: list[tuple[int, _Accepted]] = []
    first_of: dict[str, int] = {}
    now = utcnow()
    for i, document, partner in checked:
        bundle_id = document["bundle_id"]
        try:
            if bundle_id in known:
                partner_id, reference = known[bundle_id]
                if partner_id != partner.id:
                    raise BundleRefused("conflict", "A different authority already sent a bundle with this id", 409)
                results[i] = Received(reference, bundle_id, created=False)
                continue
            if bundle_id in first_of:
                continue  # the same bundle twice in one batch: answered below as the first copy
            if bundles.parse_timestamp(document["expires_at"]) <= now:
                raise BundleRefused("expired", "The bundle has expired: ask the sender for a new one", 422)
            accepted.append((i, _clean(document, partner)))
            first_of[bundle_id] = i
        except BundleRefused as exc:
            results[i] = _refuse(document, channel, exc)
    if accepted:
        _create_all([item for _, item in accepted], channel)
        for i, item in accepted:
            assert item.request is not None
            results[i] = Received(item.request.reference, item.document["bundle_id"], created=True)
    for i, document, _partner in checked:
        if results[i] is None:  # a repeat within the batch
            first = results[first_of[document["bundle_id"]]]
            results[i] = (
                Received(first.reference, first.bundle_id, created=False) if isinstance(first, Received) else first
            )
    return [r for r in results if r is not None]


def receive_many(raws: Sequence[Any], channel: str = "http") -> list[Received | BundleRefused]:
    """Take a batch of bundles (raw JSON or parsed): for each, the request created (or the one a replay already
    created), or why it was refused. The accepted ones are written together, in the caller's transaction."""
    try:
        return _receive_all(raws, channel)
    except IntegrityError:
        # Some bundle of this batch arrived at the same moment by another delivery, which created it first. The
        # transaction holds only this batch: roll it back, and the second pass answers those as replays.
        db.session.rollback()
        return _receive_all(raws, channel)


def receive(raw: bytes | str | dict[str, Any], channel: str = "http") -> Received:
    """Take one bundle. Returns the request created, or the one a replay already created; raises BundleRefused."""
    (result,) = receive_many([raw], channel)
    if isinstance(result, BundleRefused):
        raise result
    return result
