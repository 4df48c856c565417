"""Telling contacts: one seam. `notifier_for` is the only place that chooses how a contact is told.

The default records the message to give as a row that is both its history and a coordinator's call to make
(with an audit line). At merge the lead points `notifier_for` at the notifications service, which sends it in
the person's language; nothing else changes.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.tracing import ContactMessage, MessageState
from can_crm.services.common import audit, times
from can_crm.services.common.errors import Conflict, NotFound
from can_crm.services.notifications import outgoing
from can_crm.services.tracing.people import RESIDENT, VOLUNTEER
from can_crm.unit_of_work import atomic

# Template names the notifications service will hold, in each language.
EXPOSED = "tracing_exposed"  # you met someone who has tested positive: what to do
ISOLATE = "tracing_isolate"  # please stay at home until the date given; support on offer
RELEASED = "tracing_released"  # you may stop isolating

TEMPLATE_LABELS = {
    EXPOSED: "Tell them they were in contact with a case",
    ISOLATE: "Ask them to isolate, and offer support",
    RELEASED: "Tell them they may stop isolating",
}


class ContactNotifier(Protocol):
    def notify_contact(
        self, person_kind: str, person_id: int, template: str, language: str, params: dict[str, str] | None = None
    ) -> None: ...


class CallListNotifier:
    """Records the intent: a `tracing_messages` row (the call to make) and an audit line."""

    def __init__(self, user_id: int | None) -> None:
        self.user_id = user_id

    def notify_contact(
        self, person_kind: str, person_id: int, template: str, language: str, params: dict[str, str] | None = None
    ) -> None:
        if person_kind not in (RESIDENT, VOLUNTEER):
            raise ValueError(f"unknown person kind {person_kind!r}")
        message = ContactMessage(
            resident_id=person_id if person_kind == RESIDENT else None,
            volunteer_id=person_id if person_kind == VOLUNTEER else None,
            template=template,
            language=language,
            state=MessageState.TO_CALL.value,
            created_at=utcnow(),
        )
        db.session.add(message)
        audit.record(self.user_id, f"notify_contact:{template}", person_kind, person_id)


# Our tracing templates, as the notifications service names them (each in every resident-facing language).
_MESSAGE_TEMPLATES = {EXPOSED: "contact_tracing", ISOLATE: "tracing_isolate", RELEASED: "tracing_released"}


class MessageNotifier:
    """Tells the contact through the notifications service (their channel, their language), and keeps the
    call to make on the coordinators' call list: a message alone is not enough to be sure a contact knows."""

    def __init__(self, user_id: int | None) -> None:
        self.user_id = user_id
        self.fallback = CallListNotifier(user_id)

    def notify_contact(
        self, person_kind: str, person_id: int, template: str, language: str, params: dict[str, str] | None = None
    ) -> None:
        if person_kind not in (RESIDENT, VOLUNTEER):
            raise ValueError(f"unknown person kind {person_kind!r}")
        # One message of a kind per person per day: a second case the same day does not repeat it.
        key = f"{template}:{person_kind}{person_id}:{times.today().isoformat()}"
        outgoing.send(
            _MESSAGE_TEMPLATES.get(template, "contact_tracing"),
            resident_id=person_id if person_kind == RESIDENT else None,
            volunteer_id=person_id if person_kind == VOLUNTEER else None,
            dedupe_key=key,
            params={"until": "the date we give you", **(params or {})},
        )
        self.fallback.notify_contact(person_kind, person_id, template, language, params)


def notifier_for(user_id: int | None) -> ContactNotifier:
    """The notifier contacts are told through: the notifications service, with the call list behind it."""
    return MessageNotifier(user_id)


def calls_to_make(limit: int = 100) -> list[ContactMessage]:
    return list(
        db.session.scalars(
            select(ContactMessage)
            .where(ContactMessage.state == MessageState.TO_CALL.value)
            .order_by(ContactMessage.id)
            .limit(limit)
        )
    )


@atomic
def mark_called(message_id: int, user_id: int) -> ContactMessage:
    message = db.session.get(ContactMessage, message_id)
    if message is None:
        raise NotFound("No message with that id")
    if message.state == MessageState.CALLED.value:
        raise Conflict("Someone has already made this call")
    message.state = MessageState.CALLED.value
    message.done_at = utcnow()
    message.done_by_id = user_id
    kind, pid = (RESIDENT, message.resident_id) if message.resident_id else (VOLUNTEER, message.volunteer_id)
    audit.record(user_id, "called_contact", kind, int(pid or 0))
    db.session.flush()
    return message
