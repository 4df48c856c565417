"""One error envelope for the whole API: `{"error": {"code", "message", "fields"}}`.

flask-smorest's own handler (which answers `{"code", "status", "errors"}`) is never installed; webargs'
422/400 (bad JSON, wrong types, unknown fields) come here through the blueprint handler below, and domain
errors (FieldErrors, TransitionRefused, NotFound...) through the app-wide handler in can_crm/http.py, which
renders the same envelope. `fields` is keyed by the JSON path of the field, e.g. "resident.postcode".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType

from can_crm.extensions import db
from can_crm.http import STATUS_CODES, UNAUTHORISED_MESSAGE, json_error
from can_crm.services.common.errors import FieldErrors

# The largest JSON body the API reads; every text field has a far smaller limit in the services.
MAX_BODY_BYTES = 256 * 1024

# marshmallow/webargs wording, said in the API's own words with the field's JSON path.
_MESSAGES = {
    "Missing data for required field.": "{path} is required",
    "Unknown field.": "{path} is not a field of this request: remove it",
    "Field may not be null.": "{path} must not be null",
    "Not a valid string.": "{path} must be a string",
    "Not a valid integer.": "{path} must be a whole number",
    "Not a valid boolean.": "{path} must be true or false",
    "Not a valid list.": "{path} must be a list",
    "Invalid input type.": "{path} must be a JSON object",
    "Invalid JSON body.": "The body is not valid JSON",
}


# The envelope error responses an operation can give, by status, for the OpenAPI document.
ERRORS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
}


def documents(blp: Any, *codes: int) -> Any:
    """Document on `blp` the envelope error responses an operation can give."""

    def decorator(view: Any) -> Any:
        for code in codes:
            view = blp.alt_response(code, response=ERRORS[code])(view)
        return view

    return decorator


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested error dict -> {"resident.postcode": "message"}; the body itself is "body"."""
    out: dict[str, str] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            part = "" if key == ma.exceptions.SCHEMA else str(key)
            path = f"{prefix}.{part}" if prefix and part else (prefix or part)
            out.update(flatten_messages(value, path))
        return out
    items = messages if isinstance(messages, list | tuple) else [messages]
    path = prefix or "body"
    for item in items:
        if isinstance(item, Mapping):
            out.update(flatten_messages(item, prefix))
        elif path not in out:
            text = str(item)
            out[path] = _MESSAGES.get(text, text).format(path=path)
    return out


def rename_fields(exc: FieldErrors, renames: Mapping[str, str]) -> FieldErrors:
    """The same errors keyed by the names the client sent (e.g. address_line1 -> address)."""
    return FieldErrors({renames.get(key, key): message for key, message in exc.fields.items()})


def _webargs_fields(exc: HTTPException) -> dict[str, str]:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return {}
    # webargs keys messages by location ("json", "query", "view_args"); the client only knows field names.
    if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "querystring", "view_args", "path"}:
        out: dict[str, str] = {}
        for value in messages.values():
            out.update(flatten_messages(value))
        return out
    return flatten_messages(messages)


def handle_http_exception(exc: HTTPException) -> Response:
    db.session.rollback()
    status = exc.code or 500
    fields = _webargs_fields(exc)
    if status == 401:
        message = UNAUTHORISED_MESSAGE
    elif fields:
        message = next(iter(fields.values())) if len(fields) == 1 else "Check the fields named in error.fields"
    elif status == 400 and type(exc).__name__ == "CSRFError":
        message = "Send the X-CSRFToken header with a session cookie, or use a bearer token"
        return json_error(400, "csrf_failed", message)
    else:
        message = exc.description or exc.name
    response = json_error(status, STATUS_CODES.get(status, "error"), message, fields or None)
    headers = (getattr(exc, "data", None) or {}).get("headers") or {}
    response.headers.update(headers)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="CAN CRM API"'
    return response


def handle_stale(exc: StaleDataError) -> Response:
    # Two people changed the same request at once (optimistic lock): the loser retries with fresh data.
    db.session.rollback()
    return json_error(409, "conflict", "Someone else changed this request at the same time. Reload it and try again")


def limit_body() -> None:
    """Cap the body size and insist on JSON for writes, before anything reads the body."""
    request.max_content_length = MAX_BODY_BYTES
    # An anonymous caller is told to sign in (by the view's access rule) before being told about the body.
    if request.method in ("POST", "PUT", "PATCH") and current_user.is_authenticated:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise RequestEntityTooLarge(f"The body must be {MAX_BODY_BYTES // 1024} KB or smaller")
        # A POST with no body at all (accept, claim) needs no Content-Type; any body must be JSON.
        has_body = bool(request.content_length) or "Content-Type" in request.headers
        if has_body and not request.is_json:
            raise UnsupportedMediaType("Send a JSON body with the header Content-Type: application/json")


def install(blueprint: Blueprint) -> None:
    """Envelope handlers for everything raised inside the API blueprint (and its nested blueprints)."""
    blueprint.before_request(limit_body)
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(StaleDataError, handle_stale)
