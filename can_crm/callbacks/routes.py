"""POST /notify/delivery-receipts and POST /notify/inbound-sms, in GOV.UK Notify's callback formats.

Notify sends `Authorization: Bearer <the token set on the callback>`; ours is NOTIFY_CALLBACK_TOKEN. Without
that setting the endpoints are closed (401). Receipts: {"id", "reference", "to", "status", "notification_type",
"created_at", "completed_at", "sent_at", ...}; inbound SMS: {"id", "source_number", "destination_number",
"message", "date_received"}. Both are idempotent: Notify retries a callback that did not answer 2xx.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from can_crm import http
from can_crm.access import public
from can_crm.extensions import csrf
from can_crm.models.base import utcnow
from can_crm.services.common.errors import ValidationError
from can_crm.services.notifications import feedback, sending

bp = Blueprint("notify_callbacks", __name__, url_prefix="/notify")


def _authorised() -> bool:
    expected = current_app.config.get("NOTIFY_CALLBACK_TOKEN")
    header = request.headers.get("Authorization", "")
    if not expected or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), str(expected).encode())


def _payload(*required: str) -> dict[str, Any]:
    if not request.is_json:
        raise ValidationError("Send the callback as JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("The callback body must be a JSON object")
    missing = [name for name in required if not isinstance(body.get(name), str) or not body.get(name)]
    if missing:
        raise ValidationError(f"Missing or not text: {', '.join(missing)}", missing[0])
    return body


def _when(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return utcnow()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=utcnow().tzinfo)
    return utcnow()


@bp.post("/delivery-receipts")
@public
def delivery_receipt() -> Any:
    if not _authorised():
        return http.json_error(401, "unauthorised", "Send the callback bearer token")
    body = _payload("id", "status")
    reference = body.get("reference") if isinstance(body.get("reference"), str) else None
    found = sending.apply_receipt(body["id"][:64], reference, body["status"][:40])
    return jsonify({"recorded": found is not None})


@bp.post("/inbound-sms")
@public
def inbound_sms() -> Any:
    if not _authorised():
        return http.json_error(401, "unauthorised", "Send the callback bearer token")
    body = _payload("id", "source_number", "message")
    inbound = feedback.inbound_sms(
        body["id"][:64], body["source_number"], body["message"], _when(body.get("date_received"))
    )
    return jsonify({"recorded": True, "understood_as": inbound.understood_as})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)  # server-to-server calls, authenticated by the bearer token instead
    http.json_blueprint(app, bp.name, "/notify")
