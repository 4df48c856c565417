"""Request pipeline: blueprints, sign-in, CSRF, the once-per-request commit, errors, headers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.main import WTFormsHelpers
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from can_crm import unit_of_work
from can_crm.extensions import csrf, db, login_manager
from can_crm.models.enums import REQUEST_TYPE_LABELS, SKILLS, URGENCY_LABELS
from can_crm.services import users
from can_crm.services.errors import DomainError

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; font-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


class DatabaseId(IntegerConverter):
    """`<int:...>` in a URL: at most 9 digits, so a number past PostgreSQL's integer range matches no route
    (404 for every method) instead of reaching the database."""

    regex = r"\d{1,9}"


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseId
    from can_crm.admin.routes import bp as admin_bp
    from can_crm.api.v1 import init_api
    from can_crm.auth.routes import bp as auth_bp
    from can_crm.coordinator.routes import bp as coordinator_bp
    from can_crm.main.routes import bp as main_bp
    from can_crm.maps.routes import bp as maps_bp
    from can_crm.matching_web.routes import bp as matching_bp
    from can_crm.partner.routes import bp as partner_bp
    from can_crm.progress.routes import bp as progress_bp
    from can_crm.resident.routes import bp as resident_bp

    for bp in (main_bp, auth_bp, resident_bp, coordinator_bp, partner_bp, admin_bp, progress_bp, maps_bp):
        app.register_blueprint(bp)
    app.register_blueprint(matching_bp)
    init_api(app)

    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    WTFormsHelpers(app)  # `wtforms_errors(form)` for the GOV.UK error summary
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> Any:
        return users.load_session_user(session_id)

    @app.before_request
    def protect_forms() -> None:
        if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Bearer "):
            # A bearer call is that token's user and no one else, whatever session cookie comes with it;
            # a browser never sends the header on its own, so token calls need no CSRF token.
            token = request.headers["Authorization"].removeprefix("Bearer ").strip()
            g._login_user = users.user_for_token(token) or login_manager.anonymous_user()
            return
        if not app.config["WTF_CSRF_ENABLED"] or request.method in ("GET", "HEAD", "OPTIONS"):
            return
        csrf.protect()

    @app.after_request
    def finish(response: Response) -> Response:
        # Read the user before the commit: afterwards its row is expired and reading it would reload it.
        if current_user and current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        if response.status_code < 400:
            try:
                unit_of_work.commit()
            except Exception:
                unit_of_work.rollback()
                raise
        else:
            unit_of_work.rollback()
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        db.session.rollback()
        if wants_json():
            fields = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else None)
            return json_error(exc.http_status, exc.code, exc.message, fields)
        return render_template("errors/domain.html", error=exc), exc.http_status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        db.session.rollback()
        status = exc.code or 500
        if status == 401 and not wants_json():
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        if wants_json():
            codes = {
                400: "bad_request",
                401: "unauthorised",
                403: "forbidden",
                404: "not_found",
                405: "method_not_allowed",
                409: "conflict",
                413: "too_large",
                422: "validation_failed",
                429: "too_many_requests",
            }
            message = exc.description or exc.name
            if status == 401:
                message = "Sign in or send a valid bearer token"
            return json_error(status, codes.get(status, "error"), message)
        return render_template("errors/http.html", status=status, error=exc), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong. Try again later.")
        return render_template("errors/http.html", status=500, error=None), 500

    # Fixed for the life of the app: template globals, not a context processor run on every render
    # (the GOV.UK form widgets render one template per field).
    app.jinja_env.globals.update(
        authority_name=app.config["AUTHORITY_NAME"],
        type_labels={k.value: v for k, v in REQUEST_TYPE_LABELS.items()},
        urgency_labels=URGENCY_LABELS,
        skill_labels=SKILLS,
    )
