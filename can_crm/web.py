"""Request pipeline: blueprints, sign-in, CSRF, and the once-per-request commit. Errors and headers: `http`."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from govuk_frontend_wtf.main import WTFormsHelpers
from werkzeug.routing import IntegerConverter, UnicodeConverter

from can_crm import http, i18n, templating, unit_of_work
from can_crm.admin.routes import bp as admin_bp
from can_crm.api.v1 import init_api
from can_crm.auth import sessions
from can_crm.auth.routes import bp as auth_bp
from can_crm.callbacks import routes as callbacks
from can_crm.coordinator import bp as coordinator_bp
from can_crm.coordinator.maps import bp as maps_bp
from can_crm.coordinator.matching import bp as matching_bp
from can_crm.extensions import csrf, login_manager
from can_crm.feedback.routes import bp as feedback_bp
from can_crm.main.routes import bp as main_bp
from can_crm.models.enums import REQUEST_TYPE_LABELS, SKILLS, URGENCY_LABELS
from can_crm.open311 import routes as open311
from can_crm.open_data import routes as open_data
from can_crm.partner.routes import bp as partner_bp
from can_crm.progress.routes import bp as progress_bp
from can_crm.resident.routes import bp as resident_bp
from can_crm.services.accounts import users
from can_crm.volunteer import bp as volunteer_bp


class DatabaseId(IntegerConverter):
    """`<int:...>` in a URL: at most 9 digits, so a number past PostgreSQL's integer range matches no route
    (404 for every method) instead of reaching the database."""

    regex = r"\d{1,9}"


class Text(UnicodeConverter):
    """`<name>` in a URL (a reference, a token, a key): no control characters. PostgreSQL refuses a NUL in text, so
    a reference with one answered 500 on the request page; now such a URL matches no route (404 for every method),
    as a number too long for a database id does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


# Files and the health check: no session, no user, no cookie. A signed-in page's images, styles and fonts
# load the user and set the cookie otherwise, and a slow one could set an older cookie after a newer one.
SESSIONLESS_ENDPOINTS = frozenset({"main.asset", "main.app_static", "main.healthz"})


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseId
    app.url_map.converters["default"] = app.url_map.converters["string"] = Text
    for bp in (main_bp, auth_bp, resident_bp, coordinator_bp, partner_bp, admin_bp, progress_bp, maps_bp):
        app.register_blueprint(bp)
    app.register_blueprint(matching_bp)
    app.register_blueprint(volunteer_bp)
    app.register_blueprint(feedback_bp)
    callbacks.init_app(app)
    i18n.init_app(app)
    init_api(app)
    open311.init_app(app)
    open_data.init_app(app)
    http.init_app(app)

    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    templating.init_app(app)
    WTFormsHelpers(app)  # `wtforms_errors(form)` for the GOV.UK error summary
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    login_manager.user_loader(
        lambda session_id: users.load_session_user(session_id, with_volunteer=request.blueprint == "volunteer")
    )

    @app.before_request
    def read_without_transaction() -> None:
        # First, before anything reads the signed-in user.
        if http.is_reading():
            unit_of_work.reads_only()

    @app.before_request
    def protect_forms() -> Response | None:
        if request.endpoint in SESSIONLESS_ENDPOINTS:
            return None
        token = _bearer_token() if http.wants_json() else None
        if token is not None:
            # A bearer call is that token's user and no one else, whatever session cookie comes with it;
            # a browser never sends the header on its own, so token calls need no CSRF token.
            api_token = users.token_for(token)
            g.api_token = api_token
            g._login_user = api_token.user if api_token else login_manager.anonymous_user()
            if api_token is not None and api_token.scopes:
                needed = "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"
                if needed not in api_token.scopes and "privacy" not in api_token.scopes:
                    return http.json_error(403, "forbidden", f"This token lacks the '{needed}' scope")
            return None
        expired = sessions.check_session()
        if expired is not None:
            return expired
        if not app.config["WTF_CSRF_ENABLED"] or request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if http.is_csrf_exempt():
            return None
        csrf.protect()
        return None

    @app.after_request
    def commit_once(response: Response) -> Response:
        # The user this request signed in, if any, as loaded before the view: never loaded here (with the database
        # down that would fail and turn a 503 into a 500), and read before the commit (which expires its row).
        user = g.get("_login_user")
        if request.endpoint not in SESSIONLESS_ENDPOINTS and user is not None and user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        if response.status_code < 400:
            try:
                unit_of_work.commit()
            except Exception:
                unit_of_work.rollback()
                raise
        else:
            unit_of_work.rollback()
        return response

    # Fixed for the life of the app: template globals, not a context processor run on every render
    # (the GOV.UK form widgets render one template per field).
    app.jinja_env.globals.update(
        authority_name=app.config["AUTHORITY_NAME"],
        type_labels={k.value: v for k, v in REQUEST_TYPE_LABELS.items()},
        urgency_labels=URGENCY_LABELS,
        skill_labels=SKILLS,
    )
