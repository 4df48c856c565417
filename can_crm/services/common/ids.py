"""Ids that arrive from outside (a form's select, a hidden field, JSON): one parser, so none reaches the database
out of range. PostgreSQL's `integer` ends at 2**31 - 1 and its driver raises OverflowError past 2**63; SQLite
takes anything; so the range is checked here, the same for both, and a bad id is a message next to its field."""

from __future__ import annotations

from collections.abc import Iterable

from can_crm.services.common.errors import FieldErrors

MAX_ID = 2**31 - 1


def parse_id(raw: object, field: str, message: str, unknown: str | None = None) -> int:
    """`raw` as an id from 1 to MAX_ID. Blank or not a whole number: `message` on `field`; a whole number out of
    range (no row can have it): `unknown`, or `message` when not given."""
    if isinstance(raw, bool):  # bool is an int in Python, never an id
        raise FieldErrors({field: message})
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        # isascii: "²" and other Unicode digits pass isdigit() but int() refuses some of them.
        if not text or not text.isascii() or not text.isdigit():
            raise FieldErrors({field: message})
        if len(text) > len(str(MAX_ID)):
            raise FieldErrors({field: unknown or message})
        value = int(text)
    else:
        raise FieldErrors({field: message})
    if not 1 <= value <= MAX_ID:
        raise FieldErrors({field: unknown or message})
    return value


def parse_ids(raws: Iterable[object], field: str, message: str) -> list[int]:
    """Every id of a multiple choice (checkboxes), each parsed as `parse_id`; the first bad one is the error."""
    return [parse_id(raw, field, message) for raw in raws]
