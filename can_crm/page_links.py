"""Long lists on pages: the page number a query string asks for, and the GOV.UK pagination links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from can_crm.services.common.paging import Page

# More digits than any page of any list (and than PostgreSQL's OFFSET takes once multiplied by a page size).
MAX_DIGITS = 6


def positive_int(raw: str | None, default: int, cap: int | None = None) -> int:
    """A whole number of at least 1 from the query string; `default` for anything else, never an error: a typo,
    "²" (a digit to str.isdigit, not to int) or a number too long for the database's OFFSET."""
    text = (raw or "").strip()
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS else default
    value = max(1, value)
    return min(value, cap) if cap else value


def pagination(page: Page[Any], href: Callable[[int], str]) -> dict[str, Any] | None:
    """The GOV.UK pagination component's previous and next links for `page` (None when there is one page)."""
    if page.pages <= 1:
        return None
    return {
        "previous": {"href": href(page.page - 1)} if page.page > 1 else None,
        "next": {"href": href(page.page + 1)} if page.page < page.pages else None,
    }
