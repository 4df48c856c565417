"""Administration: accounts and API tokens (routes), handoff partners, data-sharing log, Open311 keys."""

from can_crm.admin import federation  # noqa: F401 - adds its routes to the admin blueprint
