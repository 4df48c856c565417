"""Helpers shared by the notification tests: walk a request to delivered, read the link from the message."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.notification import Notification
from can_crm.services.requests import lifecycle
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor

COORD = Actor(role="coordinator")


def deliver(app: Any, request: Any, volunteer: Any) -> Any:
    """Triage, match, accept, start and deliver `request`; wait for the messages those moves queue."""
    requests.triage(request, {"urgency": "1"}, COORD)
    requests.assign_volunteer(request, volunteer.id, COORD)
    for to in ("accepted", "in_progress", "delivered"):
        lifecycle.transition(request, to, COORD)
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    return request


def messages_for(db: Any, request: Any) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.request_id == request.id).order_by(Notification.id)
    return list(db.session.scalars(query))


def feedback_token(db: Any, request: Any) -> str:
    check = [n for n in messages_for(db, request) if n.template == "delivered_check"][-1]
    found = re.search(r"/f/([A-Za-z0-9_\-]+)", check.body)
    assert found, check.body
    return found.group(1)
