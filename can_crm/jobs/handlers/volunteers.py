"""Volunteer jobs: the lone-working check (periodic)."""

from __future__ import annotations

from can_crm.services.volunteers import tasks


def lone_working() -> None:
    """Periodic: alert the coordinators once about each visit that overran its expected time by the margin."""
    tasks.alert_overdue()
