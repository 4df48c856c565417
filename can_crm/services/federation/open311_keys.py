"""API keys for Open311 clients: issued and revoked by an admin, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.federation import Open311Key
from can_crm.services.common.errors import NotFound
from can_crm.services.common.tokens import new_token, token_hash
from can_crm.services.common.validation import clean_text
from can_crm.unit_of_work import atomic


@atomic
def issue(name: str | None, created_by_id: int | None) -> tuple[Open311Key, str]:
    label = clean_text(name, "name", "who the key is for", max_length=80, required=True)
    plain = "o311_" + new_token(32)
    key = Open311Key(name=label, key_hash=token_hash(plain), prefix=plain[:10], created_by_id=created_by_id)
    db.session.add(key)
    db.session.flush()
    return key, plain


def list_keys() -> list[Open311Key]:
    return list(db.session.scalars(select(Open311Key).order_by(Open311Key.id)))


def revoke(key_id: int) -> Open311Key:
    key = db.session.get(Open311Key, key_id)
    if key is None:
        raise NotFound("No Open311 key with that id")
    key.revoked_at = key.revoked_at or utcnow()
    db.session.flush()
    return key


def check(plain: str | None) -> Open311Key | None:
    """The live key matching `plain`, or None."""
    if not plain or len(plain) > 200:
        return None
    key = db.session.scalar(select(Open311Key).where(Open311Key.key_hash == token_hash(plain)))
    if key is None or key.revoked_at is not None:
        return None
    key.last_used_at = utcnow()
    return key
