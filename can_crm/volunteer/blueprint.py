"""The volunteer blueprint, shared by the page modules."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("volunteer", __name__, url_prefix="/volunteer")
