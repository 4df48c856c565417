"""Human-friendly request references, like CAN-7KQ2-94XD, that a resident can read out on the phone."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L: nothing a caller could mishear or misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_RE = re.compile(rf"^CAN-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def new_reference() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"CAN-{chars[:4]}-{chars[4:]}"


def normalise_reference(text: str) -> str | None:
    """Accept what a resident types (lower case, spaces, no dashes) and return the canonical form."""
    compact = re.sub(r"[\s\-]", "", text or "").upper()
    compact = compact.removeprefix("CAN")
    if len(compact) != 8:
        return None
    ref = f"CAN-{compact[:4]}-{compact[4:]}"
    return ref if REFERENCE_RE.match(ref) else None
