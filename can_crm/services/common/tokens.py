"""Bearer secrets the app hands out (links, API tokens and keys): made here, and stored only as their hash."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 24  # 192 bits: unguessable, and 32 characters: short enough for a text message


def new_token(nbytes: int = TOKEN_BYTES) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What is stored and looked up: a token as sent (any text, even one that is not valid UTF-8) hashed."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
