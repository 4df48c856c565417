"""Our Ed25519 signing key: generated on first use into the instance folder (owner-only), shown, rotated.

A rotation keeps the old public key in `retired.json` with the time it was retired, so `keys show` can list it
for partners during the grace period (HANDOFF_KEY_GRACE_DAYS) while they still verify bundles signed before it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from can_crm.models.base import utcnow
from can_crm.services.common.errors import ValidationError

_lock = threading.Lock()
_CACHE = "can_signing_key"
KEY_FILE = "signing_key.pem"
RETIRED_FILE = "retired.json"


@dataclass(frozen=True)
class RetiredKey:
    key_id: str
    public_key: str
    retired_at: datetime


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


def key_id(public_key: str) -> str:
    """A short, stable name for a public key (what a bundle's signature says it was made with)."""
    return hashlib.sha256(public_key.encode("ascii")).hexdigest()[:16]


def load_public_key(text: str, field: str = "public_key") -> Ed25519PublicKey:
    """A partner's public key from its text (base64url of the raw 32 bytes, as `keys show` prints it)."""
    try:
        raw = unb64(text.strip())
        if len(raw) != 32:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError):
        raise ValidationError(
            "Enter the partner's public key as `keys show` prints it (43 characters, base64url)", field
        ) from None


def verify(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def keys_dir() -> Path:
    configured = current_app.config.get("FEDERATION_KEYS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "federation"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    # Created owner-only from the start: the key is never readable by anyone else, even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _generate(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(path, pem)
    return key


def signing_key() -> Ed25519PrivateKey:
    """Our current private key, made on first use. Cached per app, reloaded when the file changes (a rotation
    by command while the web app runs)."""
    path = keys_dir() / KEY_FILE
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if not path.exists():
            _generate(path)
        stamp = path.stat().st_mtime_ns
        cached = app.extensions.get(_CACHE)
        if cached is None or cached[0] != (str(path), stamp):
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise RuntimeError(f"{path} does not hold an Ed25519 key")
            cached = ((str(path), stamp), loaded, public_key_text(loaded))
            app.extensions[_CACHE] = cached
    return cached[1]  # type: ignore[no-any-return]


def current_public_key() -> str:
    signing_key()
    return str(current_app.extensions[_CACHE][2])


def retired_keys(within_grace: bool = True) -> list[RetiredKey]:
    path = keys_dir() / RETIRED_FILE
    if not path.exists():
        return []
    grace = timedelta(days=int(current_app.config["HANDOFF_KEY_GRACE_DAYS"]))
    now = utcnow()
    found = [
        RetiredKey(item["key_id"], item["public_key"], datetime.fromisoformat(item["retired_at"]))
        for item in json.loads(path.read_text(encoding="utf-8"))
    ]
    return [k for k in found if not within_grace or k.retired_at + grace > now]


def rotate() -> tuple[str, str]:
    """Retire the current key (kept for the grace period) and make a new one; returns (old, new) public keys."""
    old_key = signing_key()
    old = public_key_text(old_key)
    path = keys_dir() / RETIRED_FILE
    retired = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    retired.append({"key_id": key_id(old), "public_key": old, "retired_at": utcnow().isoformat()})
    _write_private(path, json.dumps(retired, indent=2).encode("utf-8"))
    new_key = _generate(keys_dir() / KEY_FILE)
    return old, public_key_text(new_key)
