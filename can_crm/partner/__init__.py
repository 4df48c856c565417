"""Partner organisations and councillors: raise and follow requests; partners add their own volunteers."""

from can_crm.partner import volunteers  # noqa: F401 - adds its routes to the partner blueprint
