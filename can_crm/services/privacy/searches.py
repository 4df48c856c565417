"""Search terms held server-side. A search by name or postcode must not put the name or postcode in a URL
(every access log line would carry it), so the terms are saved here and the URL carries a random key.
Keys belong to the user who saved them and expire with the retention schedule `saved_searches`."""

from __future__ import annotations

import re
import secrets
from typing import Any

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.privacy import SavedSearch

_KEY = re.compile(r"[A-Za-z0-9_-]+")  # what token_urlsafe makes; anything else is no key of ours


def save(user_id: int | None, scope: str, terms: dict[str, Any]) -> str:
    key = secrets.token_urlsafe(18)[:24]
    db.session.add(SavedSearch(key=key, user_id=user_id, scope=scope, terms=terms, created_at=utcnow()))
    db.session.flush()
    return key


def load(user_id: int | None, scope: str, key: str | None) -> dict[str, Any] | None:
    """The terms saved under `key` by this user for this scope, or None (unknown, expired or not theirs)."""
    if not key or len(key) > 32 or not _KEY.fullmatch(key):
        return None
    saved = db.session.get(SavedSearch, key)
    if saved is None or saved.user_id != user_id or saved.scope != scope:
        return None
    return dict(saved.terms)
