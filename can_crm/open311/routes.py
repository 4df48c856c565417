"""Open311 GeoReport v2 (JSON): services, a service's definition, service requests to read (public, no personal
data) and to submit (form-encoded, with an `api_key` an admin issued). Errors in the spec's own format:
`[{"code": 400, "description": "..."}]`. XML is not offered: a `.xml` URL answers 400 in JSON, saying so.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from can_crm import http
from can_crm.access import public
from can_crm.extensions import db
from can_crm.services.federation import open311, open311_keys
from can_crm.services.federation.open311 import Open311Error

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
MAX_FORM_BYTES = 64 * 1024


def _answer(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error) -> Response:
    db.session.rollback()
    return _answer(exc.body(), exc.status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    db.session.rollback()
    status = exc.code or 400
    return _answer([{"code": status, "description": exc.description or exc.name}], status)


def _json_only(fmt: str) -> None:
    if fmt != "json":
        raise Open311Error(400, [f"Format {fmt[:10]} is not offered: use .json"])


@bp.get("/services.<fmt>")
@public
def services(fmt: str) -> Any:
    _json_only(fmt)
    return _answer(open311.services())


@bp.get("/services/<code>.<fmt>")
@public
def service_definition(code: str, fmt: str) -> Any:
    _json_only(fmt)
    return _answer(open311.service_definition(code))


@bp.get("/requests.<fmt>")
@public
def list_requests(fmt: str) -> Any:
    _json_only(fmt)
    return _answer(open311.find_requests(request.args))


@bp.get("/requests/<service_request_id>.<fmt>")
@public
def get_request(service_request_id: str, fmt: str) -> Any:
    _json_only(fmt)
    return _answer(open311.one_request(service_request_id))


@bp.post("/requests.<fmt>")
@public
@http.csrf_exempt
def submit_request(fmt: str) -> Any:
    """Authenticated by `api_key`, not by a session: no CSRF token."""
    _json_only(fmt)
    request.max_content_length = MAX_FORM_BYTES
    if open311_keys.check(request.form.get("api_key")) is None:
        raise Open311Error(403, ["A valid api_key is required to submit a service request"])
    return _answer(open311.submit(request.form), 201)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Unmatched URLs under the prefix answer in JSON too.
    http.json_blueprint(app, bp.name, bp.url_prefix or "/open311/v2")
