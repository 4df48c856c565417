"""Administration (placeholder: being built)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from can_crm.access import roles
from can_crm.models.enums import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles(Role.ADMIN)
def users() -> Any:
    return "users"
