"""Partner authorities an admin registers: who they are, where their instance is, their public key, and the
data-sharing agreement and lawful basis under which we hand requests to them. No agreement, no handoff."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import Select, select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import LawfulBasis, values
from can_crm.models.federation import Partner
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.common.validation import apply_rules, clean_choice, clean_text
from can_crm.services.federation import keys
from can_crm.unit_of_work import atomic

GSS_RE = re.compile(r"^[ENSW][0-9]{8}$")


def clean_gss(value: object, field: str = "gss_code") -> str:
    text = str(value or "").strip().upper()
    if not GSS_RE.match(text):
        raise ValidationError("Enter a GSS code, like E09000020", field)
    return text


def _clean_url(value: object) -> str | None:
    text = str(value or "").strip().rstrip("/")
    if not text:
        return None
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(text) > 300:
        raise ValidationError("Enter the partner's web address, like https://can.rbkc.gov.uk", "base_url")
    return text


def clean_partner(data: Mapping[str, Any]) -> dict[str, Any]:
    rules: dict[str, Any] = {
        "gss_code": lambda v: clean_gss(v),
        "name": lambda v: clean_text(v, "name", "the authority's name", max_length=120, required=True),
        "base_url": _clean_url,
        "public_key": lambda v: (keys.load_public_key(str(v or "")), str(v).strip())[1],
        "agreement_ref": lambda v: clean_text(
            v, "agreement_ref", "the data-sharing agreement reference", max_length=120, required=True
        ),
        "lawful_basis": lambda v: clean_choice(v, values(LawfulBasis), "lawful_basis", "the lawful basis"),
    }
    cleaned, errors = apply_rules(rules, data)
    if errors:
        raise FieldErrors(errors)
    return cleaned


@atomic
def save_partner(data: Mapping[str, Any]) -> tuple[Partner, bool]:
    """Register a partner, or update the one with that GSS code; returns (partner, created). A new public key
    keeps the old one verifying bundles signed before now, for the grace period (their key rotation)."""
    cleaned = clean_partner(data)
    if cleaned["gss_code"] == current_app.config["AUTHORITY_GSS_CODE"]:
        raise FieldErrors({"gss_code": "That is our own GSS code: a partner is another authority"})
    partner = db.session.scalar(select(Partner).where(Partner.gss_code == cleaned["gss_code"]))
    created = partner is None
    if partner is None:
        partner = Partner(active=True)
        db.session.add(partner)
    elif partner.public_key != cleaned["public_key"]:
        now = utcnow()
        partner.previous_public_key = partner.public_key
        partner.key_rotated_at = now
        partner.previous_key_expires_at = now + timedelta(days=int(current_app.config["HANDOFF_KEY_GRACE_DAYS"]))
    for field, value in cleaned.items():
        setattr(partner, field, value)
    partner.active = True
    db.session.flush()
    return partner, created


def list_partners() -> list[Partner]:
    return list(db.session.scalars(_partners_statement()))


@functools.cache
def _partners_statement() -> Select[tuple[Partner]]:
    """Built once per process: the request page's "hand off to" choice reads it on every view."""
    return select(Partner).order_by(Partner.name, Partner.id)


def by_gss(gss_code: str) -> Partner | None:
    return db.session.scalar(select(Partner).where(Partner.gss_code == gss_code, Partner.active.is_(True)))


def for_handoff(gss_code: object, *, over_http: bool) -> Partner:
    """The partner a coordinator hands a request to, refused with a field error when we cannot."""
    code = clean_gss(gss_code, "to")
    partner = by_gss(code)
    if partner is None:
        raise ValidationError(f"{code} is not a registered partner authority: an admin must add it first", "to")
    if not partner.agreement_ref or not partner.lawful_basis:
        raise ValidationError(f"There is no data-sharing agreement with {partner.name}", "to")
    if over_http and not partner.base_url:
        raise ValidationError(f"{partner.name} exchanges files only: export the handoff to a file", "to")
    return partner


def verifying_keys(partner: Partner, signed_at: datetime, now: datetime) -> list[str]:
    """The keys that may have signed a bundle from `partner` created at `signed_at`."""
    found = [partner.public_key]
    if (
        partner.previous_public_key
        and partner.key_rotated_at is not None
        and partner.previous_key_expires_at is not None
        and signed_at <= partner.key_rotated_at
        and now < partner.previous_key_expires_at
    ):
        found.append(partner.previous_public_key)
    return found


def handoff_targets() -> list[Partner]:
    """Partners a coordinator may hand to, for the "hand off to ..." choice."""
    return [p for p in list_partners() if p.active and p.agreement_ref]
