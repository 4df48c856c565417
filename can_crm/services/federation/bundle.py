"""Building, signing and checking `can-handoff/1` bundles.

The signature is Ed25519 over the RFC 8785 canonical JSON (sorted keys, no whitespace, UTF-8) of the bundle without
its `signature` member, so any JSON encoder on the wire is fine: the receiver canonicalises what it parsed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from can_crm.models.enums import RequestType
from can_crm.models.federation import Partner
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.services.federation import keys
from can_crm.services.federation.schema import FORMAT
from can_crm.services.requests import delivery

RESIDENT_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "phone",
    "email",
    "preferred_channel",
    "language",
    "accessibility_needs",
    "vulnerabilities",
    "shielding",
    "consent_given",
    "lawful_basis",
)
# The history that matters to the receiver: what happened and when, never who, nor reasons (which can carry
# safeguarding detail meant for our staff only).
HISTORY_KINDS = frozenset({"created", "transition", "triage"})


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class NotCanonical(ValueError):
    """A value the canonical form does not cover (a float): bundles carry strings, integers, booleans and nulls."""


def _in_jcs_order(value: Any) -> Any:
    """A copy with every object's members in JCS order (by UTF-16 code units, which differs from Python's code point
    order only past U+FFFF), refusing floats."""
    if isinstance(value, dict):
        return {k: _in_jcs_order(value[k]) for k in sorted(value, key=lambda k: k.encode("utf-16-be"))}
    if isinstance(value, list):
        return [_in_jcs_order(item) for item in value]
    if isinstance(value, float):
        raise NotCanonical("bundles carry no floating-point numbers")
    return value


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes that are signed: the RFC 8785 (JCS) canonical JSON of the bundle without its signature.

    For JSON made of objects, arrays, strings, integers, booleans and null (all a bundle holds; floats are refused),
    JCS is members in UTF-16 order, no whitespace, ECMAScript string escaping and UTF-8, which the C JSON encoder
    writes many times faster than a general JCS library; tests/unit/app/test_canonical_json.py proves they agree.
    """
    unsigned = _in_jcs_order({k: v for k, v in document.items() if k != "signature"})
    return json.dumps(unsigned, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sign(document: dict[str, Any], key: Ed25519PrivateKey, public_key: str) -> dict[str, Any]:
    signature = key.sign(canonical(document))
    return {
        **document,
        "signature": {"algorithm": "Ed25519", "key_id": keys.key_id(public_key), "value": keys.b64(signature)},
    }


def _history(events: Iterable[RequestEvent]) -> list[dict[str, Any]]:
    return [
        {"at": timestamp(e.created_at), "kind": e.kind, "from": e.from_status, "to": e.to_status}
        for e in events
        if e.kind in HISTORY_KINDS
    ]


def resident_block(resident: Resident) -> dict[str, Any]:
    return {name: getattr(resident, name) for name in RESIDENT_FIELDS}


def build(
    request: HelpRequest,
    resident: Resident,
    events: Iterable[RequestEvent],
    *,
    sender: tuple[str, str],
    partner: Partner,
    reason: str,
    notes: str | None,
    now: datetime,
    ttl_days: int,
) -> dict[str, Any]:
    """An unsigned bundle for `request` (its resident and history loaded by the caller)."""
    due: date | None = request.due_by
    return {
        "format": FORMAT,
        "bundle_id": str(uuid.uuid4()),
        "created_at": timestamp(now),
        "expires_at": timestamp(now + timedelta(days=ttl_days)),
        "sender": {"gss_code": sender[0], "name": sender[1]},
        "receiver": {"gss_code": partner.gss_code, "name": partner.name},
        "reason": reason,
        "agreement": {"reference": partner.agreement_ref, "lawful_basis": partner.lawful_basis},
        "request": {
            "reference": request.reference,
            "type": request.type,
            "need": request.details or "",
            "urgency": request.urgency,
            "due_by": due.isoformat() if due else None,
            "required_skills": sorted(request.required_skills or []),
            "min_dbs": request.min_dbs,
            "recurrence": request.recurrence,
            "raised_at": timestamp(request.created_at),
            "history": _history(events),
            "notes_for_receiver": notes,
            # Only a food parcel carries it, so another request's bundle reads as it always did.
            **({"delivery": delivery.out(request)} if request.type == RequestType.FOOD_PARCEL.value else {}),
        },
        "resident": resident_block(resident),
    }


def content(bundle: dict[str, Any]) -> dict[str, Any]:
    """What a bundle says about the need and the person, without its envelope (ids, parties, times, history):
    what must survive a handoff unchanged."""
    request = {k: v for k, v in bundle["request"].items() if k not in ("reference", "history", "raised_at")}
    return {"request": request, "resident": dict(bundle["resident"])}


def signature_valid(bundle: dict[str, Any], public_keys: Iterable[str]) -> bool:
    """Whether one of `public_keys` (the sender's current key, and its previous one in its grace period) made the
    bundle's signature. The schema has already checked the signature's shape."""
    signature = bundle["signature"]
    wanted = signature["key_id"]
    try:
        raw = keys.unb64(signature["value"])
    except ValueError:
        return False
    message = canonical(bundle)
    for text in public_keys:
        if keys.key_id(text) == wanted and keys.verify(keys.load_public_key(text), raw, message):
            return True
    return False
