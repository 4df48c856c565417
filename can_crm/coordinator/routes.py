"""Coordinator pages (placeholder: being built)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from can_crm.access import STAFF, roles

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")


@bp.get("/")
@roles(*STAFF)
def queue() -> Any:
    return "queue"


@bp.get("/requests/new")
@roles(*STAFF)
def new_request() -> Any:
    return "new"


@bp.get("/safeguarding")
@roles(*STAFF)
def safeguarding() -> Any:
    return "safeguarding"


@bp.get("/volunteers")
@roles(*STAFF)
def volunteers() -> Any:
    return "volunteers"
