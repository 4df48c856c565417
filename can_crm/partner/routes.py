"""Partner organisations and councillors (placeholder: being built)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from can_crm.access import roles
from can_crm.models.enums import Role

bp = Blueprint("partner", __name__, url_prefix="/partner")


@bp.get("/")
@roles(Role.PARTNER, Role.COUNCILLOR)
def my_requests() -> Any:
    return "mine"


@bp.get("/requests/new")
@roles(Role.PARTNER, Role.COUNCILLOR)
def new_request() -> Any:
    return "new"
