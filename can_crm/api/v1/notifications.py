"""/api/v1/notifications?reference=CAN-XXXX-XXXX (coordinators, admins): the messages about one request."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields

from can_crm.access import roles
from can_crm.api.v1.errors import documents
from can_crm.models.enums import MessageChannel, MessageStatus, Role, values
from can_crm.services.common.errors import NotFound
from can_crm.services.notifications import sending
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.references import normalise_reference

blp = Blueprint("notifications", __name__, url_prefix="/notifications", description="Messages sent about a request")


class NotificationArgsSchema(ma.Schema):
    reference = fields.String(required=True, metadata={"example": "CAN-7KQ2-94XD"})


class NotificationOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    channel = fields.String(metadata={"enum": values(MessageChannel)})
    template = fields.String()
    status = fields.String(metadata={"enum": values(MessageStatus)})
    locale = fields.String()
    attempts = fields.Integer()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    recipient = fields.String(allow_none=True, metadata={"description": "Outbox provider only"})
    body = fields.String(allow_none=True, metadata={"description": "Outbox provider only"})


class NotificationListSchema(ma.Schema):
    reference = fields.String()
    provider = fields.String(metadata={"enum": ["outbox", "notify"]})
    items = fields.List(fields.Nested(NotificationOutSchema))


@blp.route("", methods=["GET"], tags=["notifications"])
@roles(Role.COORDINATOR, Role.ADMIN)
@blp.arguments(NotificationArgsSchema, location="query")
@blp.response(200, NotificationListSchema)
@documents(blp, 401, 403, 404, 422)
def list_notifications(args: dict[str, Any]) -> Any:
    """The messages about one request: channel, template, status, created time (and the text, with the outbox)"""
    reference = normalise_reference(args["reference"])
    if reference is None:
        raise NotFound("No request with that reference")
    request = request_service.get_by_reference(reference)
    outbox = not current_app.config.get("NOTIFY_API_KEY")
    items = []
    for n in sending.for_request(request.id):
        item = {k: getattr(n, k) for k in ("id", "channel", "template", "status", "locale", "attempts")}
        item.update(created_at=n.created_at, sent_at=n.sent_at)
        if outbox:
            item.update(recipient=n.recipient, body=n.body)
        items.append(item)
    return {"reference": request.reference, "provider": "outbox" if outbox else "notify", "items": items}
