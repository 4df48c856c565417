"""Administration: accounts and API tokens (routes), handoff partners, data-sharing log, Open311 keys, data
protection and sign-in security (privacy)."""

from can_crm.admin import federation, privacy  # noqa: F401 - each adds its routes to the admin blueprint
