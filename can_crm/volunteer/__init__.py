"""Volunteer pages: offers, tasks, nearby, sign-up, profile, and the installable app (manifest, service worker)."""

from can_crm.volunteer import account, pages, pwa  # noqa: F401 - each adds its routes
from can_crm.volunteer.blueprint import bp

__all__ = ["bp"]
