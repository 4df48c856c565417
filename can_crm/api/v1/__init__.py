"""JSON API v1 at /api/v1, built with flask-smorest; its OpenAPI 3 document is generated from the code.

Every view carries one access rule from can_crm/access.py, placed right under `@blp.route`, so the
function Flask registers is the access wrapper and has `_can_access_rule` (plain function views only,
no MethodView, for that reason).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify
from flask_smorest import Api, Blueprint

from can_crm import http
from can_crm.access import public
from can_crm.api.v1 import (
    errors,
    handoffs,
    jobs,
    matching,
    me,
    notifications,
    organisation,
    privacy,
    requests,
    residents,
    tracing,
    volunteers,
)
from can_crm.api.v1.schemas import ErrorSchema
from can_crm.extensions import limiter

API_DESCRIPTION = """\
The CAN CRM API: raise requests for help, follow them through their lifecycle, manage residents.

**Authentication.** Either send `Authorization: Bearer <token>` (tokens are issued by an admin, or with
`flask --app wsgi create-token EMAIL`; they act with that user's role), or call from a signed-in browser
with the session cookie. Bearer calls need no CSRF token. Session-cookie calls that change something
(POST, PATCH) must send the CSRF token in the `X-CSRFToken` header, as Flask-WTF issues it.

**Errors.** Every error has the same body, with a 4xx status (never a 500 for bad input):
`{"error": {"code": "validation_failed", "message": "...", "fields": {"resident.postcode": "Enter a postcode"}}}`.
`fields` is present when particular fields are wrong and is keyed by the field's JSON path. Codes:
400 `bad_request` (e.g. malformed JSON) or `csrf_failed`, 401 `unauthorised`, 403 `forbidden` (wrong role),
404 `not_found` (also for a request the caller may not see), 409 `transition_not_allowed` or `conflict`,
413 `too_large`, 415 `unsupported_media_type` (send `Content-Type: application/json`), 422 `validation_failed`
(wrong types, missing or unknown fields, bad values).

**Tokens** are scoped (`read`, `write`, `privacy`; none listed means the user's whole role), expire, and can
be listed and revoked (`flask --app wsgi tokens ...`). **Search terms never go in a URL**: POST them to
`/api/v1/searches` and pass the returned key as `search=` to the list endpoints (`q=` is refused).

**Data minimisation.** Partners and councillors see only the requests they raised (councillors also those of
residents in their ward), and of the resident only the name and postcode. Reading a resident is audited.
Partner organisations may add their own people as volunteers (`/api/v1/organisation/volunteers`) and see,
of those people only, the name, contact details, vetting status and which checks are done.
"""

api_v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1", description="CAN CRM JSON API, version 1")
for child in (
    requests.blp,
    residents.blp,
    jobs.blp,
    matching.blp,
    volunteers.blp,
    organisation.blp,
    me.blp,
    tracing.blp,
    notifications.blp,
    handoffs.blp,
    privacy.blp,
):
    api_v1.register_blueprint(child)
errors.install(api_v1)
# Every API call counts against the caller's address (in Redis when REDIS_URL is set, across processes).
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(api_v1)


@api_v1.route("/openapi.json", methods=["GET"], tags=["meta"])
@public
@api_v1.doc(security=[], responses={"200": {"description": "This OpenAPI 3 document"}})
def openapi_json() -> Any:
    """The OpenAPI 3 description of this API"""
    return jsonify(current_app.extensions["can_api_v1"].spec.to_dict())


class CanApi(Api):
    # Documents the envelope for the standard error responses (401, 404, 422, ...).
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Install nothing app-wide: errors.install() and can_crm/http.py answer with the one envelope."""


def init_api(app: Flask) -> None:
    api = CanApi(
        config_prefix="API_V1",
        spec_kwargs={
            "title": "CAN CRM API",
            "version": "1.0.0",
            "openapi_version": "3.0.3",
            "info": {"description": API_DESCRIPTION},
            "security": [{"bearerAuth": []}, {"sessionCookie": []}],
            "tags": [
                {"name": "requests", "description": "Requests for help and their lifecycle"},
                {"name": "residents", "description": "Residents (coordinators only)"},
                {"name": "jobs", "description": "Background jobs started by the caller"},
                {"name": "matching", "description": "Matching runs, their proposals and coordinators' decisions"},
                {"name": "tracing", "description": "Local Track and Trace (coordinators with the tracing permission)"},
                {"name": "volunteers", "description": "Volunteers and their vetting (coordinators)"},
                {"name": "me", "description": "A volunteer's own offers, tasks and nearby requests"},
                {"name": "notifications", "description": "Messages sent about a request"},
                {"name": "handoffs", "description": "Handoff between authorities: signed bundles, inbox, sharing log"},
                {"name": "privacy", "description": "Subject access, erasure, the audit log, saved searches"},
                {"name": "meta", "description": "About the API"},
            ],
        },
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "An API token: acts with its user's role"}
    )
    api.spec.components.security_scheme(
        "sessionCookie",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
            "description": "A signed-in browser session; writes also need the X-CSRFToken header",
        },
    )
    api.register_blueprint(api_v1)
    http.json_blueprint(app, api_v1.name, "/api/v1")
    # marshmallow cannot say "exactly one of resident and resident_id"; JSON Schema can.
    api.spec.components.schemas["RequestIn"]["oneOf"] = [{"required": ["resident"]}, {"required": ["resident_id"]}]
    app.extensions["can_api_v1"] = api
