"""Track and Trace periodic task: isolation ends by itself the day after its `until` date."""

from __future__ import annotations

from can_crm.services.tracing import isolation


def release_due() -> None:
    """Periodic: mark released the contacts whose isolation has ended (volunteers are already available again:
    `Volunteer.is_available` reads the date)."""
    isolation.release_due()
