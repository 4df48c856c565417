"""Data-protection tasks run by the job machinery."""

from __future__ import annotations

from can_crm.services.privacy import retention


def retention_daily() -> None:
    """Periodic: the retention pass, at most once a day across every process."""
    retention.daily()
