"""One page of a long list: its items, how many there are in all, and which page this is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill (one, even when there are none)."""
    return max(1, -(-total // per_page))
