"""Administration pages: users and tokens (routes), data protection and sign-in security (privacy)."""

from can_crm.admin import privacy  # noqa: F401 - adds its routes to the admin blueprint
