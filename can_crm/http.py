"""HTTP conventions in one place: the JSON error envelope and its codes, JSON-or-HTML per blueprint, the
Content-Security-Policy with a per-request nonce, security headers, and the app-wide error handlers.

A blueprint that speaks JSON says so once (`json_blueprint(app, "api_v1", "/api/v1")`); every error raised
under it, and every unmatched URL under its prefix, answers with `{"error": {"code", "message", "fields"}}`.
Everything else answers with a GOV.UK error page.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from can_crm.extensions import db, login_manager
from can_crm.models.user import User
from can_crm.services.common.errors import DomainError

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
UNAUTHORISED_MESSAGE = "Sign in or send a valid bearer token"
_JSON_KEY = "can_json_blueprints"


def json_error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def json_blueprint(app: Flask, name: str, url_prefix: str) -> None:
    """Declare that blueprint `name` (and the URLs under `url_prefix`) answers in JSON, errors included."""
    app.extensions.setdefault(_JSON_KEY, {})[name] = url_prefix.rstrip("/") + "/"


CSRF_EXEMPT_ATTR = "_can_csrf_exempt"


def csrf_exempt(view: Any) -> Any:
    """This view takes no session cookie as proof of anything (a signed bundle, an API key): no CSRF token."""
    setattr(view, CSRF_EXEMPT_ATTR, True)
    return view


def is_csrf_exempt() -> bool:
    return _view_marked(CSRF_EXEMPT_ATTR)


def _view_marked(attr: str) -> bool:
    """Whether the view this request goes to carries a mark (`csrf_exempt`, `reading`)."""
    return bool(getattr(current_app.view_functions.get(request.endpoint or ""), attr, False))


READING_ATTR = "_can_reading"


def reading(view: Any) -> Any:
    """This view only reads when asked by GET or HEAD: its request runs without a transaction
    (unit_of_work.reads_only), and a write in it is a mistake that raises."""
    setattr(view, READING_ATTR, True)
    return view


def is_reading() -> bool:
    return request.method in ("GET", "HEAD") and _view_marked(READING_ATTR)


def wants_json() -> bool:
    from_blueprints: dict[str, str] = current_app.extensions.get(_JSON_KEY, {})
    if request.blueprint:
        return request.blueprint.split(".")[0] in from_blueprints
    # No route matched (a 404 or 405): decide by the prefixes the JSON blueprints own.
    return any(request.path.startswith(prefix) for prefix in from_blueprints.values())


# -- Content-Security-Policy ----------------------------------------------------------------------------


def csp_nonce() -> str:
    """This response's nonce: a `<script>` or `<style>` element runs only if it carries it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b")


def nonced(html: str) -> Markup:
    """Our own rendered markup (a map drawn by folium, never user input) with this response's nonce on each
    `<script>` and `<style>` element, so it runs under the CSP."""
    return Markup(_SCRIPT_OR_STYLE.sub(rf'<\1 nonce="{csp_nonce()}"', html))  # noqa: S704 - trusted, see above


def allow_images_from(origin: str) -> None:
    """Let this response load images from `origin` too (e.g. a council's map tile server)."""
    g.setdefault("csp_img_origins", []).append(origin)


def content_security_policy() -> str:
    nonce = csp_nonce()
    images = " ".join(["'self'", "data:", *g.get("csp_img_origins", [])])
    return (
        f"default-src 'self'; img-src {images}; style-src 'self' 'nonce-{nonce}'; "
        f"script-src 'self' 'nonce-{nonce}'; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


# Sent with every response that does not set its own.
FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(response: Response) -> Response:
    # The response's own header names read once (each `setdefault` would scan them all again).
    own = {name.lower() for name, _ in response.headers}
    if "content-security-policy" not in own:
        response.headers["Content-Security-Policy"] = content_security_policy()
    fixed = (*FIXED_HEADERS, HSTS) if current_app.config.get("SESSION_COOKIE_SECURE") else FIXED_HEADERS
    response.headers.extend([(name, value) for name, value in fixed if name.lower() not in own])
    # Anything but our own front-end assets may carry personal data (a resident's form, tracking page, the
    # API): never kept by the browser or a proxy. Assets set their own max-age when sent.
    if "max-age" not in (response.headers.get("Cache-Control") or ""):
        response.headers["Cache-Control"] = "no-store"
    return response


# -- error handlers -------------------------------------------------------------------------------------


def _domain_error(exc: DomainError) -> Any:
    db.session.rollback()
    if wants_json():
        fields = getattr(exc, "fields", None) or ({exc.field: exc.message} if exc.field else None)
        return json_error(exc.http_status, exc.code, exc.message, fields)
    return render_template("errors/domain.html", error=exc), exc.http_status


def _http_error(exc: HTTPException) -> Any:
    db.session.rollback()
    status = exc.code or 500
    if status == 401 and not wants_json():
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if wants_json():
        message = UNAUTHORISED_MESSAGE if status == 401 else (exc.description or exc.name)
        return json_error(status, STATUS_CODES.get(status, "error"), message)
    return render_template("errors/http.html", status=status, error=exc), status


def _unexpected(exc: Exception) -> Any:
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.url_rule)
    if wants_json():
        return json_error(500, STATUS_CODES[500], "Something went wrong. Try again later.")
    return render_template("errors/http.html", status=500, error=None), 500


def _database_unavailable(exc: OperationalError) -> Any:
    """The database is down or restarting: nothing was saved, and the caller may simply try again.

    The page (its menu) and the response's headers read the signed-in user: they get the row as read before the
    outage (a rollback would expire it, and reading it again would fail), or no one when it could not be read."""
    user = g.get("_login_user")
    if user is None:
        g._login_user = login_manager.anonymous_user()
    elif isinstance(user, User) and user in db.session:
        db.session.expunge(user)
    db.session.rollback()
    log.warning("database unavailable on %s %s", request.method, request.url_rule)
    if wants_json():
        response = json_error(503, STATUS_CODES[503], "The service is briefly unavailable. Try again shortly.")
    else:
        response = current_app.make_response((render_template("errors/http.html", status=503, error=None), 503))
    response.headers["Retry-After"] = "5"
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonced"] = nonced
