"""Coordinator pages, one module per area; the matching and maps pages have blueprints of their own here."""

from can_crm.coordinator import intake, privacy, requests, safeguarding, volunteers  # noqa: F401 - each adds its routes
from can_crm.coordinator.blueprint import bp

__all__ = ["bp"]
