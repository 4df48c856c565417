"""Health check, front-end assets served by the app itself, and the landing page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy import text

from can_crm.access import public
from can_crm.extensions import db
from can_crm.models.enums import Role

bp = Blueprint("main", __name__)

# Only these npm packages are served, and only from their dist folders.
_ASSET_ROOTS = {
    "govuk": ("govuk-frontend", "dist/govuk"),
    "leaflet": ("leaflet", "dist"),
}


@bp.get("/healthz")
@public
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return jsonify({"status": "unavailable", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "ok", "jobs": current_app.extensions["can_queue"].describe()})


@bp.get("/assets/<package>/<path:filename>")
@public
def asset(package: str, filename: str) -> Any:
    if package not in _ASSET_ROOTS:
        abort(404)
    name, sub = _ASSET_ROOTS[package]
    root = Path(current_app.config["ASSETS_DIR"]) / name / sub
    response = send_from_directory(root, filename, max_age=86400)
    return response


@bp.get("/")
@public
def index() -> Any:
    if current_user.is_authenticated:
        home = {
            Role.COORDINATOR.value: "coordinator.queue",
            Role.PARTNER.value: "partner.my_requests",
            Role.COUNCILLOR.value: "partner.my_requests",
            Role.ADMIN.value: "admin.users",
            Role.VOLUNTEER.value: "volunteer.offers_page",
        }.get(current_user.role)
        if home:
            return redirect(url_for(home))
    return render_template("main/index.html")


@bp.get("/static/<path:filename>")
@public
def app_static(filename: str) -> Any:
    return send_from_directory(Path(__file__).resolve().parent.parent / "static", filename, max_age=3600)
