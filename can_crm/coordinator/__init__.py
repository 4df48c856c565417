"""Coordinator pages, one module per area; the matching and maps pages have blueprints of their own here."""

from can_crm.coordinator import (  # noqa: F401 - each adds its routes
    calls,
    dashboard,
    handoffs,
    intake,
    locations,
    outreach,
    privacy,
    requests,
    rounds,
    safeguarding,
    tracing,
    volunteers,
)
from can_crm.coordinator.blueprint import bp

__all__ = ["bp"]
