"""Queueing messages: choose the channel, write the text in the recipient's language, start the send job.

`send()` is the one entry point (other domains use it: volunteers' offers, contact tracing). It writes a
`Notification` row in the caller's transaction and starts a job that sends it after the commit; nobody who
opted out gets a message, and a message nobody could deliver becomes a call task for a coordinator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import CallTaskKind, ContactChannel, MessageChannel, MessageStatus, Status
from can_crm.models.notification import Notification
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import NotFound
from can_crm.services.common.jobs import start_job
from can_crm.services.common.validation import is_mobile
from can_crm.services.notifications import calltasks, links, messages

SEND_JOB = "send_notification"

# Which lifecycle moves tell the resident something, and with which template.
ON_STATUS = {
    Status.IN_PROGRESS: "volunteer_on_way",
    Status.DELIVERED: "delivered_check",
}


@dataclass(frozen=True)
class Route:
    """Where a message goes: a channel and its address, or None when there is no way to send it."""

    channel: MessageChannel
    recipient: str | None
    address: list[str] | None = None


def _mobile_of(phone: str | None) -> str | None:
    return phone if phone and is_mobile(phone) else None


def route_for_resident(resident: Resident) -> Route | None:
    """The preferred channel when its detail is known, then a text, then an email; letters only when asked."""
    mobile = resident.mobile or _mobile_of(resident.phone)
    preferred = resident.preferred_channel
    if preferred == ContactChannel.LETTER.value:
        lines = [resident.name, resident.address_line1, resident.address_line2, resident.town, resident.postcode]
        return Route(MessageChannel.LETTER, None, [line for line in lines if line])
    if preferred == ContactChannel.EMAIL.value and resident.email:
        return Route(MessageChannel.EMAIL, resident.email)
    if mobile:
        return Route(MessageChannel.SMS, mobile)
    if resident.email:
        return Route(MessageChannel.EMAIL, resident.email)
    return None


def route_for_volunteer(volunteer: Volunteer) -> Route | None:
    mobile = _mobile_of(volunteer.phone)
    if mobile:
        return Route(MessageChannel.SMS, mobile)
    if volunteer.email:
        return Route(MessageChannel.EMAIL, volunteer.email)
    return None


def send(
    template: str,
    *,
    resident_id: int | None = None,
    volunteer_id: int | None = None,
    request: HelpRequest | None = None,
    dedupe_key: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Notification | None:
    """Queue `template` to a resident or a volunteer (by id), in their language, by their channel.

    Returns the message, or None when nothing is sent (opted out, or no way to reach them: then a call task).
    Idempotent per `dedupe_key` (default: the template and the recipient): a repeat returns the first message.
    """
    if (resident_id is None) == (volunteer_id is None):
        raise ValueError("send() needs exactly one of resident_id and volunteer_id")
    if template not in messages.TEMPLATES:
        raise messages.UnknownTemplate(f"no message template named {template!r}")
    key = dedupe_key or f"{template}:{'r' if resident_id else 'v'}{resident_id or volunteer_id}"
    existing = db.session.scalar(select(Notification).where(Notification.dedupe_key == key))
    if existing is not None:
        return existing
    locale = "en"
    if resident_id is not None:
        resident = db.session.get(Resident, resident_id)
        if resident is None:
            raise NotFound("No resident with that id")
        if resident.notifications_opt_out:
            return None
        route = route_for_resident(resident)
        locale = messages.locale_of(resident.locale)
    else:
        volunteer = db.session.get(Volunteer, volunteer_id)
        if volunteer is None:
            raise NotFound("No volunteer with that id")
        route = route_for_volunteer(volunteer)
    if route is None:
        if resident_id is not None:
            calltasks.open_task(CallTaskKind.NO_CONTACT, f"no_contact:{key}", request=request, resident_id=resident_id)
        return None
    values = {"authority": current_app.config["AUTHORITY_NAME"], **(params or {})}
    if request is not None:
        values.setdefault("reference", request.reference)
    subject, body = messages.render(template, locale, values)
    notification = Notification(
        dedupe_key=key,
        request_id=request.id if request else None,
        resident_id=resident_id,
        volunteer_id=volunteer_id,
        template=template,
        channel=route.channel.value,
        locale=locale,
        recipient=route.recipient,
        address=route.address,
        subject=subject if route.channel != MessageChannel.SMS else None,
        body=body,
        status=MessageStatus.QUEUED.value,
        created_at=utcnow(),
    )
    db.session.add(notification)
    db.session.flush()
    # No history line for a message queued (the request's messages are listed on their own); a failure is one.
    start_job(SEND_JOB, {"notification_id": notification.id}, None)
    return notification


def on_request_created(request: HelpRequest) -> Notification | None:
    """ "Request received" with its reference (called once by intake)."""
    return send("request_received", resident_id=request.resident_id, request=request, dedupe_key=_key(request))


def on_transition(request: HelpRequest, event: RequestEvent) -> Notification | None:
    """Tell the resident what a lifecycle move means for them (called by the state machine after each move)."""
    template = ON_STATUS.get(Status(event.to_status)) if event.to_status else None
    if template is None:
        return None
    db.session.flush()  # the event's id makes the message unique: a second delivery is a second message
    params: dict[str, Any] = {}
    if template == "delivered_check":
        _link, token = links.create_link(request)
        params["link"] = links.url_for_token(token)
    return send(
        template, resident_id=request.resident_id, request=request, dedupe_key=f"{template}:e{event.id}", params=params
    )


def _key(request: HelpRequest) -> str:
    return f"request_received:q{request.id}"
